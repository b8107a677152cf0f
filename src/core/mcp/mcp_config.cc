// MCP configuration: the trust check of each file, the trusted layers merged field by field, then
// each server checked and expanded with the environment its fields' layers may read.
#include "core/mcp/mcp_config.h"

#include <algorithm>
#include <utility>

#include "base/assert.h"
#include "base/json_parse.h"
#include "base/sha256.h"

namespace reliant::mcp {

using Json = nlohmann::json;

namespace {

constexpr const char* kServerFields[] = {"type", "command", "args",       "env",
                                         "cwd",  "url",     "headers",    "enabled",
                                         "tags", "timeout", "description"};

Result<std::map<std::string, std::string>> string_map(const Json& value, const std::string& what) {
  if (!value.is_object())
    return fail(ErrorCode::invalid_argument, what + " must be a map of strings");
  std::map<std::string, std::string> out;
  for (const auto& [key, entry] : value.items()) {
    if (!entry.is_string()) {
      return fail(ErrorCode::invalid_argument, what + "." + key + " must be a string");
    }
    out[key] = entry.get<std::string>();
  }
  return out;
}

Result<std::vector<std::string>> string_list(const Json& value, const std::string& what) {
  if (!value.is_array())
    return fail(ErrorCode::invalid_argument, what + " must be a list of strings");
  std::vector<std::string> out;
  for (const auto& entry : value) {
    if (!entry.is_string()) {
      return fail(ErrorCode::invalid_argument, what + " must be a list of strings");
    }
    out.push_back(entry.get<std::string>());
  }
  return out;
}

// Which layer set each field of a merged server: "command", "args", "cwd", "url", "type",
// "env.KEY", "headers.KEY" (the rest need no expansion).
using Origins = std::map<std::string, McpLayer>;

// The fields that say what runs, or where the server is: a workspace file that sets one of them
// for a server of the user's file makes it another program.
constexpr const char* kLaunchFields[] = {"type", "command", "args", "cwd", "url"};

// The server's merged fields, checked and expanded; a problem becomes its `error`. A field a
// workspace layer set expands with `workspace_environment`.
McpServerConfig server_from(const std::string& name, const Json& fields, const std::string& source,
                            const Origins& origins, const Environment& environment,
                            const Environment& workspace_environment) {
  McpServerConfig server;
  server.name = name;
  server.source = source;
  const std::string where = source + ": mcpServers." + name;
  const auto problem = [&](const std::string& message) {
    if (server.error.empty()) server.error = message;
  };
  if (!valid_server_name(name)) {
    problem(where +
            ": a server's name is letters, digits, '-' and '_' (it becomes part of its "
            "tools' names)");
  }
  for (const auto& [key, value] : fields.items()) {
    const bool known = std::find(std::begin(kServerFields), std::end(kServerFields), key) !=
                       std::end(kServerFields);
    if (!known) problem(where + ": unknown field \"" + key + "\"");
  }
  // `what` names the field in messages, `key` in `origins`.
  const auto expanded = [&](const std::string& text, const std::string& what,
                            const std::string& key) {
    const auto origin = origins.find(key);
    const bool workspace = origin != origins.end() && origin->second != McpLayer::user;
    auto out = expand_variables(text, workspace ? workspace_environment : environment);
    if (!out) {
      problem(where + "." + what + ": " + out.error().message +
              (workspace ? " (a workspace mcp.json reads only the variables that "
                           "~/.reliant/mcp.json lists in \"workspaceVariables\")"
                         : ""));
      return std::string();
    }
    return *out;
  };
  if (const auto it = fields.find("enabled"); it != fields.end()) {
    if (!it->is_boolean()) {
      problem(where + ".enabled must be true or false");
    } else {
      server.enabled = it->get<bool>();
    }
  }
  if (const auto it = fields.find("type"); it != fields.end()) {
    if (!it->is_string()) {
      problem(where + ".type must be a string");
    } else {
      server.type = it->get<std::string>();
      if (server.type == "streamable-http" || server.type == "streamableHttp") server.type = "http";
      if (server.type != "stdio" && server.type != "http" && server.type != "sse") {
        problem(where + ".type \"" + server.type + "\" is not stdio, http or sse");
      }
    }
  } else if (fields.contains("url") && !fields.contains("command")) {
    server.type = "http";
  }
  if (const auto it = fields.find("command"); it != fields.end()) {
    if (!it->is_string()) {
      problem(where + ".command must be a string");
    } else {
      server.command = expanded(it->get<std::string>(), "command", "command");
    }
  }
  if (const auto it = fields.find("args"); it != fields.end()) {
    auto args = string_list(*it, where + ".args");
    if (!args) {
      problem(args.error().message);
    } else {
      for (std::size_t i = 0; i < args->size(); ++i) {
        server.args.push_back(expanded((*args)[i], "args[" + std::to_string(i) + "]", "args"));
      }
    }
  }
  for (const char* key : {"env", "headers"}) {
    const auto it = fields.find(key);
    if (it == fields.end()) continue;
    auto values = string_map(*it, where + "." + key);
    if (!values) {
      problem(values.error().message);
      continue;
    }
    auto& target = std::string_view(key) == "env" ? server.env : server.headers;
    for (const auto& [k, v] : *values) {
      target[k] = expanded(v, std::string(key) + "." + k, std::string(key) + "." + k);
    }
  }
  if (const auto it = fields.find("cwd"); it != fields.end()) {
    if (!it->is_string()) {
      problem(where + ".cwd must be a string");
    } else {
      server.cwd = expanded(it->get<std::string>(), "cwd", "cwd");
    }
  }
  if (const auto it = fields.find("url"); it != fields.end()) {
    if (!it->is_string()) {
      problem(where + ".url must be a string");
    } else {
      server.url = expanded(it->get<std::string>(), "url", "url");
    }
  }
  if (const auto it = fields.find("tags"); it != fields.end()) {
    auto tags = string_list(*it, where + ".tags");
    if (!tags) {
      problem(tags.error().message);
    } else {
      server.tags = std::move(*tags);
    }
  }
  if (const auto it = fields.find("timeout"); it != fields.end()) {
    if (!it->is_number() || it->get<double>() <= 0) {
      problem(where + ".timeout must be a positive number of seconds");
    } else {
      server.timeout_seconds = it->get<double>();
    }
  }
  if (server.type == "stdio" && server.command.empty())
    problem(where + ": a stdio server needs a command");
  if (server.type != "stdio") {
    if (server.url.empty()) {
      problem(where + ": an " + server.type + " server needs a url");
    } else if (!server.url.starts_with("http://") && !server.url.starts_with("https://")) {
      problem(where + ".url must start with http:// or https://");
    }
  }
  return server;
}

// The "mcpServers" of a parsed file: an object of objects, or why not (absent: an empty one).
Result<Json> servers_of(const Json& json, const std::string& file) {
  if (!json.is_object()) {
    return fail(ErrorCode::invalid_argument, file + ": expected an object with \"mcpServers\"");
  }
  const auto servers = json.find("mcpServers");
  if (servers == json.end()) return Json::object();  // a file for other settings
  if (!servers->is_object()) {
    return fail(ErrorCode::invalid_argument, file + ": \"mcpServers\" must be a map of servers");
  }
  for (const auto& [name, fields] : servers->items()) {
    if (!fields.is_object()) {
      return fail(ErrorCode::invalid_argument,
                  file + ": mcpServers." + name + " must be a map of fields");
    }
  }
  return *servers;
}

// Quotes a path for a shell command line when it needs it.
std::string shell_word(const std::string& text) {
  const bool plain = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' ||
           c == '.' || c == '_' || c == '-' || c == '+' || c == ':' || c == '@';
  });
  if (plain) return text;
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

std::string_view to_string(McpLayer layer) {
  switch (layer) {
    case McpLayer::user:
      return "user";
    case McpLayer::project:
      return "project";
    case McpLayer::local:
      return "local";
  }
  return "user";
}

Json to_json(const McpConfigFile& file) {
  const char* status = file.layer == McpLayer::user ? "TRUSTED"
                       : file.trusted               ? "APPROVED"
                                                    : "UNTRUSTED";
  return Json{{"file", file.file},       {"layer", std::string(to_string(file.layer))},
              {"sha256", file.sha256},   {"status", status},
              {"servers", file.servers}, {"error", file.error}};
}

std::string approval_needed(const std::string& file, const std::string& sha256) {
  return file + " is not approved (its sha256 is " + sha256 +
         "): its servers start once you approve this content, on the MCP page or with: "
         "reliant mcp approve " +
         shell_word(file) + " --sha256 " + sha256;
}

bool valid_server_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) return false;
  }
  return name.find("__") == std::string_view::npos;  // the separator in tool names
}

Result<std::string> expand_variables(std::string_view text, const Environment& environment) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '$' || i + 1 >= text.size()) {
      out += text[i];
      continue;
    }
    if (text[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    if (text[i + 1] != '{') {
      out += '$';
      continue;
    }
    const auto close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      return fail(ErrorCode::invalid_argument,
                  "\"${\" at offset " + std::to_string(i) + " is not closed");
    }
    const std::string_view inner = text.substr(i + 2, close - i - 2);
    const auto dash = inner.find(":-");
    const std::string_view name = inner.substr(0, dash);
    if (name.empty()) return fail(ErrorCode::invalid_argument, "\"${}\" names no variable");
    const auto value = environment ? environment(name) : std::nullopt;
    if (value && !value->empty()) {
      out += *value;
    } else if (dash != std::string_view::npos) {
      out += inner.substr(dash + 2);
    } else if (value) {
      // Set but empty, without a default: empty, as a shell gives it.
    } else {
      return fail(ErrorCode::invalid_argument, "${" + std::string(name) +
                                                   "} is not set and has no default (${" +
                                                   std::string(name) + ":-default})");
    }
    i = close;
  }
  return out;
}

namespace {

// Whether a server's fields say how to launch it (a layer that does relaunches it).
bool names_launch(const Json& fields) {
  return std::any_of(std::begin(kLaunchFields), std::end(kLaunchFields),
                     [&](const char* key) { return fields.contains(key); });
}

}  // namespace

Result<McpConfig> load_mcp_config(const std::vector<McpConfigLayer>& layers,
                                  const Environment& environment, const McpApprovals& approvals) {
  McpConfig out;
  // Merged raw fields per server, the last file that touched each, and which layer set each
  // field.
  std::map<std::string, Json> merged;
  std::map<std::string, std::string> sources;
  std::map<std::string, Origins> origins;
  std::set<std::string, std::less<>> workspace_variables;
  // Servers named only by files that are not approved: the first such file, and its hash.
  std::map<std::string, std::pair<std::string, std::string>> waiting;
  for (const auto& layer : layers) {
    McpConfigFile file;
    file.file = layer.file;
    file.layer = layer.layer;
    file.sha256 = to_hex(Sha256::of(layer.text));
    file.trusted =
        layer.layer == McpLayer::user || approvals.contains(McpApproval{layer.file, file.sha256});
    auto json = parse_json(layer.text);
    Result<Json> servers = json ? servers_of(*json, layer.file)
                                : Result<Json>(fail(ErrorCode::invalid_argument,
                                                    layer.file + ": " + json.error().message));
    if (!file.trusted) {
      // Read, never used: its names are listed as waiting, its text shown for review.
      if (!servers) {
        file.error = servers.error().message;
      } else {
        if (servers->dump().size() <= kShownServersBytesMax) file.servers = *servers;
        for (const auto& [name, fields] : servers->items()) {
          waiting.try_emplace(name, layer.file, file.sha256);
        }
      }
      out.files.push_back(std::move(file));
      continue;
    }
    if (!servers) return fail(servers.error());
    if (layer.layer == McpLayer::user) {
      if (const auto listed = json->find("workspaceVariables"); listed != json->end()) {
        auto names = string_list(*listed, layer.file + ": workspaceVariables");
        if (!names) return fail(names.error());
        workspace_variables.insert(names->begin(), names->end());
      }
    } else if (servers->size() > 0) {
      file.servers = servers->dump().size() <= kShownServersBytesMax ? *servers : Json();
    }
    for (const auto& [name, fields] : servers->items()) {
      Json& into = merged[name];
      if (!into.is_object()) into = Json::object();
      Origins& origin = origins[name];
      const bool relaunched = layer.layer != McpLayer::user && names_launch(fields);
      if (relaunched) {
        // The user's secrets for this server stay with the user's own program.
        for (const char* map : {"env", "headers"}) {
          if (!into.contains(map) || !into[map].is_object()) continue;
          for (auto it = origin.begin(); it != origin.end();) {
            const std::string prefix = std::string(map) + ".";
            if (it->first.starts_with(prefix) && it->second == McpLayer::user) {
              into[map].erase(it->first.substr(prefix.size()));
              it = origin.erase(it);
            } else {
              ++it;
            }
          }
        }
      }
      for (const auto& [key, value] : fields.items()) {
        if ((key == "env" || key == "headers") && value.is_object() && into.contains(key) &&
            into[key].is_object()) {
          for (const auto& [k, v] : value.items()) into[key][k] = v;
        } else {
          if (key == "env" || key == "headers") {
            // A whole map replaces the one before, and its origins.
            for (auto it = origin.begin(); it != origin.end();) {
              it = it->first.starts_with(key + ".") ? origin.erase(it) : std::next(it);
            }
          }
          into[key] = value;
        }
        if ((key == "env" || key == "headers") && value.is_object()) {
          for (const auto& [k, v] : value.items()) origin[key + "." + k] = layer.layer;
        } else {
          origin[key] = layer.layer;
        }
      }
      sources[name] = layer.file;
    }
    out.files.push_back(std::move(file));
  }
  const Environment workspace_environment =
      [&environment, &workspace_variables](std::string_view name) -> std::optional<std::string> {
    if (!environment || !workspace_variables.contains(name)) return std::nullopt;
    return environment(name);
  };
  for (const auto& [name, fields] : merged) {
    out.servers.emplace(name, server_from(name, fields, sources[name], origins[name], environment,
                                          workspace_environment));
  }
  for (const auto& [name, file] : waiting) {
    if (out.servers.contains(name)) continue;  // a trusted layer defines it: that one runs
    McpServerConfig server;
    server.name = name;
    server.source = file.first;
    server.untrusted = true;
    server.error = approval_needed(file.first, file.second);
    out.servers.emplace(name, std::move(server));
  }
  RELIANT_ASSERT(out.files.size() == layers.size());
  return out;
}

}  // namespace reliant::mcp
