// MCP configuration: the user, project and project-local layers merged field by field, variable
// expansion with defaults, and every mistake reported with its file and the field it is in.
#include <gtest/gtest.h>

#include "core/mcp/mcp_config.h"

namespace reliant::mcp {
namespace {

std::optional<std::string> env_of(std::string_view name) {
  if (name == "HOME") return std::string("/home/dev");
  if (name == "TOKEN") return std::string("s3cret");
  if (name == "EMPTY") return std::string();
  return std::nullopt;
}

TEST(McpConfig, LayersOverrideFieldByField) {
  const std::vector<McpConfigLayer> layers = {
      {"/home/dev/.reliant/mcp.json",
       R"({"mcpServers": {"files": {"command": "npx", "args": ["-y", "server-filesystem", "${HOME}"]},
                          "noisy": {"command": "noisy-server"}}})"},
      {"/p/.reliant/mcp.json",
       R"({"mcpServers": {"files": {"env": {"LEVEL": "info"}, "tags": ["fs"]},
                          "web": {"type": "http", "url": "https://mcp.example.com/mcp"}}})"},
      {"/p/.reliant.local/mcp.json",
       R"({"mcpServers": {"files": {"env": {"KEY": "${TOKEN}"}}, "noisy": {"enabled": false}}})"},
  };
  auto config = load_mcp_config(layers, env_of);
  ASSERT_TRUE(config.has_value()) << config.error().message;
  ASSERT_EQ(config->size(), 3u);
  const McpServerConfig& files = config->at("files");
  EXPECT_EQ(files.error, "");
  EXPECT_EQ(files.command, "npx");
  EXPECT_EQ(files.args, (std::vector<std::string>{"-y", "server-filesystem", "/home/dev"}));
  EXPECT_EQ(files.env, (std::map<std::string, std::string>{{"KEY", "s3cret"}, {"LEVEL", "info"}}));
  EXPECT_EQ(files.tags, std::vector<std::string>{"fs"});
  EXPECT_EQ(files.source, "/p/.reliant.local/mcp.json");
  EXPECT_FALSE(config->at("noisy").enabled);
  EXPECT_EQ(config->at("noisy").command, "noisy-server");
  EXPECT_EQ(config->at("web").type, "http");
  EXPECT_EQ(config->at("web").url, "https://mcp.example.com/mcp");
}

TEST(McpConfig, VariablesExpandWithDefaults) {
  EXPECT_EQ(*expand_variables("${HOME}/x", env_of), "/home/dev/x");
  EXPECT_EQ(*expand_variables("${MISSING:-fallback}", env_of), "fallback");
  EXPECT_EQ(*expand_variables("${EMPTY:-fallback}", env_of), "fallback");
  EXPECT_EQ(*expand_variables("${EMPTY}", env_of), "");
  EXPECT_EQ(*expand_variables("cost $$5 and $HOME", env_of), "cost $5 and $HOME");
  auto unset = expand_variables("${MISSING}", env_of);
  ASSERT_FALSE(unset.has_value());
  EXPECT_NE(unset.error().message.find("${MISSING} is not set"), std::string::npos);
  EXPECT_FALSE(expand_variables("${HOME", env_of).has_value());
}

TEST(McpConfig, ABrokenFileFailsWithItsPlace) {
  auto syntax = load_mcp_config({{"/p/.reliant/mcp.json", "{\"mcpServers\": {\n  \"a\": }"}}, env_of);
  ASSERT_FALSE(syntax.has_value());
  EXPECT_NE(syntax.error().message.find("/p/.reliant/mcp.json: "), std::string::npos);
  EXPECT_NE(syntax.error().message.find("line 2"), std::string::npos) << syntax.error().message;
  auto shape = load_mcp_config({{"m.json", R"({"mcpServers": []})"}}, env_of);
  ASSERT_FALSE(shape.has_value());
  EXPECT_NE(shape.error().message.find("m.json: \"mcpServers\" must be a map"), std::string::npos);
}

TEST(McpConfig, ABrokenServerIsKeptWithWhatIsWrong) {
  auto config = load_mcp_config(
      {{"m.json", R"({"mcpServers": {
          "nocommand": {"args": ["x"]},
          "unset": {"command": "srv", "env": {"K": "${MISSING}"}},
          "badtype": {"type": "carrier-pigeon", "command": "x"},
          "bad name": {"command": "x"},
          "typo": {"comand": "x"},
          "good": {"command": "srv"}}})"}},
      env_of);
  ASSERT_TRUE(config.has_value()) << config.error().message;
  EXPECT_EQ(config->at("good").error, "");
  EXPECT_EQ(config->at("nocommand").error, "m.json: mcpServers.nocommand: a stdio server needs a command");
  EXPECT_NE(config->at("unset").error.find("mcpServers.unset.env.K: ${MISSING} is not set"),
            std::string::npos)
      << config->at("unset").error;
  EXPECT_NE(config->at("badtype").error.find("\"carrier-pigeon\" is not stdio, http or sse"),
            std::string::npos);
  EXPECT_NE(config->at("bad name").error.find("letters, digits"), std::string::npos);
  EXPECT_NE(config->at("typo").error.find("unknown field \"comand\""), std::string::npos);
}

}  // namespace
}  // namespace reliant::mcp
