// The named wake-up's body as a worker reads it (named_tasks_of): what a starter sends comes back
// as it went; anything else anyone may publish on the wake subject is a plain wake-up.
#include "services/worker/named_wake.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/engine/history.h"

namespace reliant::engine {
namespace {

std::string body(const Json& run, const Json& owner, const Json& tasks) {
  return Json{{"run", run}, {"owner", owner}, {"tasks", tasks}}.dump();
}

TEST(NamedWake, AStartersBodyNamesItsRunsTasksEachOnce) {
  const auto named = named_tasks_of(body("r1", "u1", {"r1:act:3", "r1:act:2", "r1:act:3"}));
  ASSERT_TRUE(named.has_value());
  EXPECT_EQ(named->run_id, "r1");
  EXPECT_EQ(named->owner, "u1");
  EXPECT_EQ(named->task_ids, (std::vector<std::string>{"r1:act:2", "r1:act:3"}));
  // Another run's ids are dropped; only they: nothing left.
  const auto mixed = named_tasks_of(body("r1", "u1", {"r2:act:2", "r1:wf:2", 7}));
  ASSERT_TRUE(mixed.has_value());
  EXPECT_EQ(mixed->task_ids, (std::vector<std::string>{"r1:wf:2"}));
  EXPECT_FALSE(named_tasks_of(body("r1", "u1", {"r2:act:2", "r1", "r10:act:2"})).has_value());
}

TEST(NamedWake, AnythingElseIsAPlainWakeUp) {
  std::vector<std::string> tasks_max;
  for (int i = 0; i < 65; ++i) tasks_max.push_back("r1:act:" + std::to_string(i));
  for (const std::string& other :
       {std::string(), std::string("{not json"), std::string("[]"), std::string("\"r1\""),
        body("", "u1", {"r1:act:2"}), body("r1", "", {"r1:act:2"}), body(1, "u1", {"1:act:2"}),
        body("r1", nullptr, {"r1:act:2"}), body("r1", "u1", "r1:act:2"), body("r1", "u1", {}),
        body("r1", "u1", tasks_max), std::string(100'000, '[') + "\"r1\"",
        Json{{"run", "r1"}, {"tasks", {"r1:act:2"}}}.dump()}) {
    EXPECT_FALSE(named_tasks_of(other).has_value()) << other.substr(0, 80);
  }
}

}  // namespace
}  // namespace reliant::engine
