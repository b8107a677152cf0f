// Provider keys from the command line, through /api/v1/settings/provider-keys. `set` reads the
// key from a file or standard input, never from the command line, which every local user can
// read (ps); nothing prints a key. Exit 0 on success, 1 when the server refuses, 2 when it
// cannot be reached or the arguments are wrong.
#include "app/provider_key_commands.h"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "app/api_client.h"

namespace reliant {
namespace {

using Json = nlohmann::json;

struct ProviderKeyOptions {
  ApiClientOptions api;
  std::string provider;
  std::string key_file;  // "-" or empty: standard input
};

// The first line of the file (or of standard input), without surrounding white space.
Result<std::string> read_key(const std::string& file) {
  std::string line;
  if (file.empty() || file == "-") {
    std::getline(std::cin, line);
  } else {
    std::ifstream in(file);
    if (!in) return fail(ErrorCode::invalid_argument, "--key-file " + file + ": cannot read it");
    std::getline(in, line);
  }
  const auto first = line.find_first_not_of(" \t\r");
  const auto last = line.find_last_not_of(" \t\r");
  if (first == std::string::npos) return fail(ErrorCode::invalid_argument, "the key is empty");
  return line.substr(first, last - first + 1);
}

int list_keys(const ProviderKeyOptions& o) {
  auto client = ApiClient::open(o.api);
  if (!client) return report_api_error(client.error());
  auto listed = client->call("GET", "/api/v1/settings/provider-keys");
  if (!listed) return report_api_error(listed.error());
  const Json keys = listed->value("provider_keys", Json::array());
  if (keys.empty()) std::puts("no provider keys kept: the server's keys are used");
  for (const auto& key : keys) {
    std::printf("%-10s kept (set at %lld ms)\n", key.value("provider", "?").c_str(),
                static_cast<long long>(key.value("updated_at_ms", 0LL)));
  }
  return 0;
}

int set_key(const ProviderKeyOptions& o) {
  auto key = read_key(o.key_file);
  if (!key) return report_api_error(key.error());
  auto client = ApiClient::open(o.api);
  if (!client) return report_api_error(client.error());
  auto stored =
      client->call("PUT", "/api/v1/settings/provider-keys/" + o.provider, Json{{"api_key", *key}});
  if (!stored) return report_api_error(stored.error());
  std::printf("stored your %s key (sealed on the server; it is not shown again)\n",
              o.provider.c_str());
  return 0;
}

int delete_key(const ProviderKeyOptions& o) {
  auto client = ApiClient::open(o.api);
  if (!client) return report_api_error(client.error());
  auto deleted = client->call("DELETE", "/api/v1/settings/provider-keys/" + o.provider);
  if (!deleted) return report_api_error(deleted.error());
  std::printf("deleted your %s key: the server's is used\n", o.provider.c_str());
  return 0;
}

}  // namespace

void add_provider_key_commands(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<ProviderKeyOptions>();
  auto* command = app.add_subcommand(
      "provider-key",
      "Your own model provider keys (anthropic, openai), kept sealed on the server");
  command->require_subcommand(1);
  auto* list = command->add_subcommand("list", "Which providers you keep a key for");
  auto* set = command->add_subcommand(
      "set", "Keep a key: read from --key-file, or the first line of standard input");
  auto* remove = command->add_subcommand("delete", "Stop keeping a provider's key");
  for (auto* sub : {list, set, remove}) add_api_client_options(*sub, options->api);
  for (auto* sub : {set, remove}) {
    sub->add_option("provider", options->provider, "anthropic or openai")
        ->required()
        ->check(CLI::IsMember({"anthropic", "openai"}));
  }
  set->add_option("--key-file", options->key_file,
                  "A file whose first line is the key ('-': stdin)");
  list->callback([options, &exit_code] { exit_code = list_keys(*options); });
  set->callback([options, &exit_code] { exit_code = set_key(*options); });
  remove->callback([options, &exit_code] { exit_code = delete_key(*options); });
}

}  // namespace reliant
