// CommandsOnce: a command id runs once; a copy while it runs is dropped, one after it gets the
// first answer when that was small enough to keep and is told it ran otherwise; no id, no memory.
#include "services/daemon/commands_once.h"

#include <gtest/gtest.h>

namespace reliant::daemon {
namespace {

v1::DaemonCommandResult answer(const std::string& id, std::size_t bytes) {
  v1::DaemonCommandResult result;
  result.set_command_id(id);
  result.set_ok(true);
  result.set_response(std::string(bytes, 'r'));
  return result;
}

TEST(CommandsOnce, AnIdRunsOnceAndACopyAfterGetsTheFirstAnswerOrIsRefused) {
  CommandsOnce once;
  EXPECT_EQ(once.begin("a"), CommandsOnce::Seen::first);
  EXPECT_EQ(once.begin("a"), CommandsOnce::Seen::running);
  once.finish("a", answer("a", 10));
  EXPECT_EQ(once.begin("a"), CommandsOnce::Seen::finished);
  EXPECT_EQ(once.repeated("a").SerializeAsString(), answer("a", 10).SerializeAsString());

  EXPECT_EQ(once.begin("big"), CommandsOnce::Seen::first);
  once.finish("big", answer("big", CommandsOnce::kAnswerKeptBytesMax + 1));
  EXPECT_EQ(once.begin("big"), CommandsOnce::Seen::finished);
  const v1::DaemonCommandResult refused = once.repeated("big");
  EXPECT_FALSE(refused.ok());
  EXPECT_EQ(refused.command_id(), "big");
  EXPECT_EQ(refused.error_code(), "already_exists");
}

TEST(CommandsOnce, ACommandWithoutAnIdIsAlwaysNew) {
  CommandsOnce once;
  EXPECT_EQ(once.begin(""), CommandsOnce::Seen::first);
  once.finish("", answer("", 1));
  EXPECT_EQ(once.begin(""), CommandsOnce::Seen::first);
}

}  // namespace
}  // namespace reliant::daemon
