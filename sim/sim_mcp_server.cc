// SimMcpServer: the scripted server's answers (see the header).
#include "sim/sim_mcp_server.h"

#include <utility>

namespace reliant::sim {

using Json = nlohmann::json;

SimInteractiveFactory SimMcpServer::factory(SimMcpServerOptions options) {
  return [options](SimHost&, const SimCommandCall&) {
    return std::unique_ptr<SimInteractive>(std::make_unique<SimMcpServer>(options));
  };
}

void SimMcpServer::on_input(std::string_view data, SimProcessIo& io) {
  partial_.append(data);
  for (auto end = partial_.find('\n'); end != std::string::npos; end = partial_.find('\n')) {
    const std::string line = partial_.substr(0, end);
    partial_.erase(0, end + 1);
    Json message = Json::parse(line, nullptr, false);
    if (message.is_discarded() || !message.is_object()) {
      reply(io,
            Json{{"jsonrpc", "2.0"},
                 {"id", nullptr},
                 {"error", {{"code", -32700}, {"message", "parse error"}}}},
            options_.reply_delay);
      continue;
    }
    handle(message, io);
  }
}

Json SimMcpServer::tools() const {
  const auto tool = [](std::string name, std::string description, Json properties) {
    return Json{{"name", std::move(name)},
                {"description", std::move(description)},
                {"inputSchema", {{"type", "object"}, {"properties", std::move(properties)}}}};
  };
  Json list = Json::array();
  list.push_back(tool("echo", "Returns its text", {{"text", {{"type", "string"}}}}));
  list.push_back(
      tool("add", "Adds a and b", {{"a", {{"type", "number"}}}, {"b", {{"type", "number"}}}}));
  list.push_back(tool("slow", "Answers late", Json::object()));
  list.push_back(tool("hang", "Never answers", Json::object()));
  list.push_back(tool("progress", "Reports progress", Json::object()));
  list.push_back(tool("fail", "Always fails", Json::object()));
  list.push_back(tool("image", "Returns a picture", Json::object()));
  list.push_back(tool("flood", "Writes without end", Json::object()));
  for (std::size_t i = 0; i < options_.extra_tools; ++i) {
    list.push_back(tool("tool_" + std::to_string(i), "Extra", Json::object()));
  }
  if (late_tool_) list.push_back(tool("late", "Added after the first call", Json::object()));
  return list;
}

void SimMcpServer::reply(SimProcessIo& io, const Json& message, Duration after) {
  if (options_.malformed_before_each_reply) io.write("{this is not json\n", after);
  io.write(message.dump() + "\n", after);
}

void SimMcpServer::handle(const Json& message, SimProcessIo& io) {
  const std::string method = message.value("method", "");
  const Json id = message.value("id", Json());
  const Json params = message.value("params", Json::object());
  const auto answer = [&](Json result, Duration after) {
    reply(io, Json{{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}}, after);
  };
  const auto text = [](std::string s) {
    return Json{{"content", Json::array({{{"type", "text"}, {"text", std::move(s)}}})}};
  };
  if (id.is_null()) {  // a notification: initialized, cancelled …
    if (options_.notifications_heard) {
      const Json request_id = params.is_object() ? params.value("requestId", Json()) : Json();
      options_.notifications_heard->push_back(
          method + (request_id.is_null() ? std::string() : " " + request_id.dump()));
    }
    return;
  }
  if (options_.requests_heard) options_.requests_heard->push_back(method);
  if (method == "initialize") {
    if (options_.never_initialize) return;
    answer({{"protocolVersion", options_.protocol_version},
            {"capabilities", {{"tools", {{"listChanged", true}}}}},
            {"serverInfo", {{"name", options_.name}, {"version", "1.0.0"}}}},
           options_.reply_delay);
  } else if (method == "ping") {
    answer(Json::object(), options_.reply_delay);
  } else if (method == "tools/list") {
    const Json all = tools();
    std::size_t from = 0;
    if (params.contains("cursor") && params["cursor"].is_string()) {
      from = static_cast<std::size_t>(std::stoul(params["cursor"].get<std::string>()));
    }
    const std::size_t size = options_.page_size == 0 ? all.size() : options_.page_size;
    Json page = Json::array();
    for (std::size_t i = from; i < all.size() && i < from + size; ++i) page.push_back(all[i]);
    Json result{{"tools", page}};
    if (from + size < all.size()) result["nextCursor"] = std::to_string(from + size);
    answer(std::move(result), options_.reply_delay);
  } else if (method == "tools/call") {
    ++calls_;
    if ((options_.crash_after_calls != 0 && calls_ >= options_.crash_after_calls) ||
        (options_.crash_now && options_.crash_now())) {
      io.exit(1, options_.reply_delay);
      return;
    }
    const std::string name = params.value("name", "");
    const Json args = params.value("arguments", Json::object());
    if (name == "echo") {
      answer(text(args.value("text", "")), options_.reply_delay);
    } else if (name == "add") {
      answer(text(std::to_string(args.value("a", 0.0) + args.value("b", 0.0))),
             options_.reply_delay);
    } else if (name == "slow") {
      answer(text("finally"), options_.slow_delay);
    } else if (name == "hang") {
      // never answers
    } else if (name == "progress") {
      const Json token = params.value("_meta", Json::object()).value("progressToken", Json());
      for (int step = 1; step <= 3 && !token.is_null(); ++step) {
        io.write(Json{{"jsonrpc", "2.0"},
                      {"method", "notifications/progress"},
                      {"params", {{"progressToken", token}, {"progress", step}, {"total", 3}}}}
                         .dump() +
                     "\n",
                 options_.reply_delay);
      }
      answer(text("done"), options_.reply_delay);
    } else if (name == "fail") {
      Json result = text("it went wrong");
      result["isError"] = true;
      answer(std::move(result), options_.reply_delay);
    } else if (name == "image") {
      answer({{"content",
               Json::array(
                   {{{"type", "image"}, {"mimeType", "image/png"}, {"data", "iVBORw0KGgo="}}})}},
             options_.reply_delay);
    } else if (name == "big") {
      answer(text(std::string(options_.big_bytes, 'b')), options_.reply_delay);
    } else if (name == "deep") {
      // Written by hand: nlohmann's dump recurses once per level.
      std::string nested(options_.deep_levels, '[');
      nested += std::string(options_.deep_levels, ']');
      io.write(R"({"jsonrpc":"2.0","id":)" + id.dump() +
                   R"(,"result":{"content":[],"structuredContent":{"deep":)" + nested + "}}}\n",
               options_.reply_delay);
    } else if (name == "churn") {
      const std::string changed =
          Json{{"jsonrpc", "2.0"}, {"method", "notifications/tools/list_changed"}}.dump() + "\n";
      for (std::size_t i = 0; i < options_.list_changed_burst; ++i) {
        io.write(changed, options_.reply_delay);
      }
      answer(text("churned"), options_.reply_delay);
    } else if (name == "flood") {
      io.write(std::string(options_.flood_bytes, 'x'), options_.reply_delay);
    } else {
      reply(io,
            Json{{"jsonrpc", "2.0"},
                 {"id", id},
                 {"error", {{"code", -32602}, {"message", "unknown tool " + name}}}},
            options_.reply_delay);
    }
    if (options_.list_changed_after_first_call && !late_tool_) {
      late_tool_ = true;
      io.write(
          Json{{"jsonrpc", "2.0"}, {"method", "notifications/tools/list_changed"}}.dump() + "\n",
          options_.reply_delay);
    }
  } else {
    reply(io,
          Json{{"jsonrpc", "2.0"},
               {"id", id},
               {"error", {{"code", -32601}, {"message", "method not found: " + method}}}},
          options_.reply_delay);
  }
}

}  // namespace reliant::sim
