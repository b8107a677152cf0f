// MCP configuration: layers merged field by field, then each server checked and expanded.
#include "core/mcp/mcp_config.h"

#include <algorithm>
#include <utility>

#include "base/json_parse.h"

namespace reliant::mcp {

using Json = nlohmann::json;

namespace {

constexpr const char* kServerFields[] = {"type", "command", "args", "env", "cwd", "url",
                                         "headers", "enabled", "tags", "timeout", "description"};

Result<std::map<std::string, std::string>> string_map(const Json& value, const std::string& what) {
  if (!value.is_object()) return fail(ErrorCode::invalid_argument, what + " must be a map of strings");
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
  if (!value.is_array()) return fail(ErrorCode::invalid_argument, what + " must be a list of strings");
  std::vector<std::string> out;
  for (const auto& entry : value) {
    if (!entry.is_string()) {
      return fail(ErrorCode::invalid_argument, what + " must be a list of strings");
    }
    out.push_back(entry.get<std::string>());
  }
  return out;
}

// The server's merged fields, checked and expanded; a problem becomes its `error`.
McpServerConfig server_from(const std::string& name, const Json& fields, const std::string& source,
                            const Environment& environment) {
  McpServerConfig server;
  server.name = name;
  server.source = source;
  const std::string where = source + ": mcpServers." + name;
  const auto problem = [&](const std::string& message) {
    if (server.error.empty()) server.error = message;
  };
  if (!valid_server_name(name)) {
    problem(where + ": a server's name is letters, digits, '-' and '_' (it becomes part of its "
                    "tools' names)");
  }
  for (const auto& [key, value] : fields.items()) {
    const bool known = std::find(std::begin(kServerFields), std::end(kServerFields), key) !=
                       std::end(kServerFields);
    if (!known) problem(where + ": unknown field \"" + key + "\"");
  }
  const auto expanded = [&](const std::string& text, const std::string& what) {
    auto out = expand_variables(text, environment);
    if (!out) {
      problem(where + "." + what + ": " + out.error().message);
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
      server.command = expanded(it->get<std::string>(), "command");
    }
  }
  if (const auto it = fields.find("args"); it != fields.end()) {
    auto args = string_list(*it, where + ".args");
    if (!args) {
      problem(args.error().message);
    } else {
      for (std::size_t i = 0; i < args->size(); ++i) {
        server.args.push_back(expanded((*args)[i], "args[" + std::to_string(i) + "]"));
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
    for (const auto& [k, v] : *values) target[k] = expanded(v, std::string(key) + "." + k);
  }
  if (const auto it = fields.find("cwd"); it != fields.end()) {
    if (!it->is_string()) {
      problem(where + ".cwd must be a string");
    } else {
      server.cwd = expanded(it->get<std::string>(), "cwd");
    }
  }
  if (const auto it = fields.find("url"); it != fields.end()) {
    if (!it->is_string()) {
      problem(where + ".url must be a string");
    } else {
      server.url = expanded(it->get<std::string>(), "url");
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
  if (server.type == "stdio" && server.command.empty()) problem(where + ": a stdio server needs a command");
  if (server.type != "stdio") {
    if (server.url.empty()) {
      problem(where + ": an " + server.type + " server needs a url");
    } else if (!server.url.starts_with("http://") && !server.url.starts_with("https://")) {
      problem(where + ".url must start with http:// or https://");
    }
  }
  return server;
}

}  // namespace

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
      return fail(ErrorCode::invalid_argument, "\"${\" at offset " + std::to_string(i) + " is not closed");
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
      return fail(ErrorCode::invalid_argument,
                  "${" + std::string(name) + "} is not set and has no default (${" +
                      std::string(name) + ":-default})");
    }
    i = close;
  }
  return out;
}

Result<std::map<std::string, McpServerConfig>> load_mcp_config(
    const std::vector<McpConfigLayer>& layers, const Environment& environment) {
  // Merged raw fields per server, and the last file that touched each.
  std::map<std::string, Json> merged;
  std::map<std::string, std::string> sources;
  for (const auto& layer : layers) {
    auto json = parse_json(layer.text);
    if (!json) {
      return fail(ErrorCode::invalid_argument, layer.file + ": " + json.error().message);
    }
    if (!json->is_object()) {
      return fail(ErrorCode::invalid_argument, layer.file + ": expected an object with \"mcpServers\"");
    }
    const auto servers = json->find("mcpServers");
    if (servers == json->end()) continue;  // a file for other settings
    if (!servers->is_object()) {
      return fail(ErrorCode::invalid_argument, layer.file + ": \"mcpServers\" must be a map of servers");
    }
    for (const auto& [name, fields] : servers->items()) {
      if (!fields.is_object()) {
        return fail(ErrorCode::invalid_argument,
                    layer.file + ": mcpServers." + name + " must be a map of fields");
      }
      Json& into = merged[name];
      if (!into.is_object()) into = Json::object();
      for (const auto& [key, value] : fields.items()) {
        if ((key == "env" || key == "headers") && value.is_object() && into.contains(key) &&
            into[key].is_object()) {
          for (const auto& [k, v] : value.items()) into[key][k] = v;
        } else {
          into[key] = value;
        }
      }
      sources[name] = layer.file;
    }
  }
  std::map<std::string, McpServerConfig> out;
  for (const auto& [name, fields] : merged) {
    out.emplace(name, server_from(name, fields, sources[name], environment));
  }
  return out;
}

}  // namespace reliant::mcp
