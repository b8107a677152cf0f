// The node type table: one row per NodeType in the enum's order, each name found again by
// node_type_named, each activity named node.<type> with options, nothing else an activity.
#include "core/workflow/node_types.h"

#include <gtest/gtest.h>

#include <set>

#include "core/workflow/engine_workflow.h"

namespace reliant::workflow {
namespace {

TEST(NodeTypes, EveryTypeIsOneRowAndEveryActivityIsNamedAfterIt) {
  std::set<std::string_view> names;
  for (std::size_t i = 0; i < node_types().size(); ++i) {
    const NodeTypeInfo& info = node_types()[i];
    SCOPED_TRACE(std::string(info.name));
    EXPECT_EQ(static_cast<std::size_t>(info.type), i);
    EXPECT_TRUE(names.insert(info.name).second) << "a name twice";
    EXPECT_EQ(to_string(info.type), info.name);
    EXPECT_EQ(node_type_named(info.name), info.type);
    if (info.role == NodeRole::activity) {
      EXPECT_EQ(info.activity, "node." + std::string(info.name));
      EXPECT_EQ(activity_name(info.type), info.activity);
      EXPECT_GE(info.options.attempts_max, 1);
      EXPECT_GT(info.options.start_to_close, Duration::zero());
    } else {
      EXPECT_TRUE(info.activity.empty());
    }
  }
  EXPECT_EQ(node_type_named("nope"), std::nullopt);
  EXPECT_EQ(node_type_info(NodeType::approval).role, NodeRole::person);
  EXPECT_EQ(node_type_info(NodeType::join).role, NodeRole::control);
}

}  // namespace
}  // namespace reliant::workflow
