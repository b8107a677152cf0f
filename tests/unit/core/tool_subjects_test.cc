// Which ids may become a subject token: anything but the separator, the wildcards, whitespace and
// control characters — which would let an id address another user's subjects.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/tool_subjects.h"

namespace reliant::subjects {
namespace {

TEST(ToolSubjects, AnIdIsATokenUnlessItHoldsASeparatorWildcardSpaceOrControl) {
  for (const std::string id : {"user-1", "0f8e2c1a-5b7d-4e3f-9a6b-1c2d3e4f5a6b", "a_b:c/d+e",
                               "caf\xc3\xa9", "\x7f", "\xff"}) {
    EXPECT_TRUE(check_token("user id", id).has_value()) << id;
  }
  for (const std::string& id :
       std::vector<std::string>{"a.b", "*", "user>", "a b", "a\tb", "a\nb", "a\rb", "a\vb", "a\fb",
                                std::string("a\0b", 3), "\x01", "\x1f"}) {
    auto checked = check_token("user id", id);
    ASSERT_FALSE(checked.has_value()) << id;
    EXPECT_EQ(checked.error().code, ErrorCode::invalid_argument);
    EXPECT_NE(checked.error().message.find("is not a valid subject token"), std::string::npos);
  }
  auto empty = check_token("daemon id", "");
  ASSERT_FALSE(empty.has_value());
  EXPECT_EQ(empty.error().message, "daemon id is empty");
}

TEST(ToolSubjects, TheIdIsReadBackFromASubject) {
  auto user = user_of(tool_call("user-1"), "tools.call");
  ASSERT_TRUE(user.has_value()) << user.error().message;
  EXPECT_EQ(*user, "user-1");
  EXPECT_FALSE(user_of("tools.call.a.b", "tools.call").has_value());
  EXPECT_FALSE(user_of("tools.request.user-1", "tools.call").has_value());
}

}  // namespace
}  // namespace reliant::subjects
