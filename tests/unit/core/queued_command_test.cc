// The Commands protocol's vocabulary: which commands and arguments are accepted (and the
// message for each refusal), and the commands token's shape.
#include "core/queued_command.h"

#include <gtest/gtest.h>

namespace reliant {
namespace {

using Json = nlohmann::json;

TEST(QueuedCommand, KnownCommandsWithWellFormedArgsAreAccepted) {
  auto reload = parse_command_request("reload", Json());
  ASSERT_TRUE(reload.has_value()) << reload.error().message;
  EXPECT_EQ(reload->name, CommandName::reload);
  EXPECT_EQ(reload->args, Json::object());
  auto tool = parse_command_request("run_tool", {{"tool", "bash"}, {"timeout_s", 2.5}});
  ASSERT_TRUE(tool.has_value()) << tool.error().message;
  EXPECT_EQ(tool->args["input"], Json::object()) << "no input: an empty one";
  EXPECT_EQ(tool->run_time_max, milliseconds(2500));
  auto default_timeout = parse_command_request("run_tool", {{"tool", "view"}});
  ASSERT_TRUE(default_timeout.has_value());
  EXPECT_EQ(default_timeout->run_time_max, kCommandToolTimeoutDefault);
}

TEST(QueuedCommand, EachRefusalSaysWhatIsWrong) {
  const std::vector<std::pair<std::pair<std::string, Json>, std::string>> cases = {
      {{"format_disk", Json::object()},
       "unknown command \"format_disk\" (reload, restart, run_tool)"},
      {{"reload", Json::array()}, "args: a JSON object, not array"},
      {{"restart", {{"force", true}}}, "args.force: restart takes no such argument"},
      {{"run_tool", Json::object()}, "args.tool: run_tool needs the tool's name"},
      {{"run_tool", {{"tool", ""}}}, "args.tool"},
      {{"run_tool", {{"tool", "bash"}, {"input", "ls"}}}, "args.input: the tool's input"},
      {{"run_tool", {{"tool", "bash"}, {"timeout_s", 0}}}, "args.timeout_s"},
      {{"run_tool", {{"tool", "bash"}, {"timeout_s", "10"}}}, "args.timeout_s"},
      {{"run_tool", {{"tool", "bash"}, {"input", {{"x", std::string(70000, 'a')}}}}},
       "longer than 65536 bytes"},
  };
  for (const auto& [given, says] : cases) {
    auto refused = parse_command_request(given.first, given.second);
    ASSERT_FALSE(refused.has_value()) << given.first << " " << given.second.dump().substr(0, 80);
    EXPECT_EQ(refused.error().code, ErrorCode::invalid_argument);
    EXPECT_NE(refused.error().message.find(says), std::string::npos) << refused.error().message;
  }
}

TEST(QueuedCommand, ATokenNamesItsDaemonAndNothingElseParses) {
  std::array<std::uint8_t, kCommandTokenRandomBytes> bytes{};
  bytes.fill(0xAB);
  const std::string id = "01M8FZV2XHPYK1BTTAMZCWX4AW";
  const std::string token = format_command_token(id, bytes);
  EXPECT_TRUE(token.starts_with("rlnt_cmd_" + id + "."));
  EXPECT_EQ(command_token_daemon(token), id);
  EXPECT_EQ(hash_command_token(token).size(), 64u);
  for (const std::string& bad :
       {std::string(), token.substr(0, token.size() - 1), "rlnt_pat_" + token.substr(9),
        "rlnt_cmd_../etc." + token.substr(token.find('.') + 1), "rlnt_cmd_" + id}) {
    EXPECT_FALSE(command_token_daemon(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace reliant
