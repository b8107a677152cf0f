// A REST body of run control as a control request: the step is "node" in the body and "key"
// in the signal, and an error about it names the field the client sent.
#include <gtest/gtest.h>

#include "services/api/workflow_routes.h"

namespace reliant::api {
namespace {

using Json = nlohmann::json;

TEST(RunControlRequest, TheStepIsCalledNodeInTheBodyAndInItsErrors) {
  auto retry = control_request_of("retry", Json{{"node", "build"}, {"args", {{"n", 2}}}});
  ASSERT_TRUE(retry.has_value()) << retry.error().message;
  EXPECT_EQ(retry->action, workflow::ControlAction::retry);
  EXPECT_EQ(retry->key, "build");
  EXPECT_EQ(retry->args, (Json{{"n", 2}}));
  for (const std::string_view verb : {"retry", "skip", "fail"}) {
    auto refused = control_request_of(verb, Json{{"node", 5}});
    ASSERT_FALSE(refused.has_value()) << verb;
    EXPECT_EQ(refused.error().code, ErrorCode::invalid_argument);
    EXPECT_EQ(refused.error().message, "\"node\" must be a string") << verb;
  }
}

}  // namespace
}  // namespace reliant::api
