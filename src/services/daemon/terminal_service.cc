// The TerminalService's daemon commands (terminal_service.h) on TerminalSessions.
#include "services/daemon/terminal_service.h"

#include "base/base64url.h"
#include "base/json_parse.h"
#include "services/daemon/command_answers.h"

namespace reliant::daemon {
namespace {

using Json = nlohmann::json;

std::optional<TerminalSize> size_in(const Json& args, TerminalSize fallback) {
  TerminalSize size = fallback;
  for (auto [key, cells] : {std::pair{"rows", &size.rows}, std::pair{"cols", &size.cols}}) {
    if (!args.contains(key)) continue;
    if (!args[key].is_number_integer()) return std::nullopt;
    const auto value = args[key].get<std::int64_t>();
    if (value < 1 || value > TerminalSize::kCellsMax) return std::nullopt;
    *cells = static_cast<int>(value);
  }
  return size;
}

Error bad_size() {
  return {ErrorCode::invalid_argument,
          "rows and cols are whole numbers from 1 to " + std::to_string(TerminalSize::kCellsMax)};
}

Json answer_of(const Result<TerminalView>& view) { return terminal_view_json(*view); }

}  // namespace

bool is_terminal_command(const std::string& command) {
  return command == "term_list" || command == "term_open" || command == "term_input" ||
         command == "term_resize" || command == "term_close" || command == "term_read";
}

Json terminal_view_json(const TerminalView& view) {
  Json out{{"id", view.id},
           {"command", view.command},
           {"rows", view.size.rows},
           {"cols", view.size.cols},
           {"opened_at_ms", to_ms(view.opened_at.time_since_epoch())},
           {"active_at_ms", to_ms(view.active_at.time_since_epoch())},
           {"output_bytes", view.output_bytes},
           {"running", view.running}};
  if (view.exit_code) out["exit_code"] = *view.exit_code;
  if (view.start_error) out["start_error"] = *view.start_error;
  return out;
}

Task<v1::DaemonCommandResult> answer_terminal_command(v1::DaemonCommand command,
                                                      TerminalSessions* terminals) {
  if (terminals == nullptr) {
    co_return command_refused(command,
                              {ErrorCode::failed_precondition, "this daemon has no terminals"});
  }
  const std::string& verb = command.command();
  if (verb == "term_list") {
    Json listed = Json::array();
    for (const auto& view : terminals->list()) listed.push_back(terminal_view_json(view));
    co_return command_answered(command, listed);
  }
  const Json args = parse_json_or_discarded(command.args_json());
  if (!args.is_object()) {
    co_return command_refused(command,
                              {ErrorCode::invalid_argument, verb + " needs a JSON object"});
  }
  if (verb == "term_open") {
    const auto size = size_in(args, TerminalSize{});
    if (!size) co_return command_refused(command, bad_size());
    auto opened = terminals->open(*size);
    if (!opened) co_return command_refused(command, opened.error());
    co_return command_answered(command, answer_of(opened));
  }
  if (!args.contains("id") || !args["id"].is_string()) {
    co_return command_refused(command,
                              {ErrorCode::invalid_argument, verb + " needs {\"id\": TERMINAL}"});
  }
  const std::string id = args["id"].get<std::string>();
  if (verb == "term_input") {
    std::optional<std::string> data;
    if (args.contains("data") && args["data"].is_string()) {
      data = args["data"].get<std::string>();
    } else if (args.contains("data_base64url") && args["data_base64url"].is_string()) {
      data = base64url_decode(args["data_base64url"].get<std::string>());
    }
    if (!data) {
      co_return command_refused(command,
                                {ErrorCode::invalid_argument,
                                 "term_input needs \"data\" (text) or \"data_base64url\" (bytes)"});
    }
    auto written = terminals->write(id, std::move(*data));
    if (!written) co_return command_refused(command, written.error());
    co_return command_answered(command, answer_of(written));
  }
  if (verb == "term_resize") {
    const auto size = size_in(args, TerminalSize{});
    if (!size || !args.contains("rows") || !args.contains("cols")) {
      co_return command_refused(command, bad_size());
    }
    auto resized = terminals->resize(id, *size);
    if (!resized) co_return command_refused(command, resized.error());
    co_return command_answered(command, answer_of(resized));
  }
  if (verb == "term_close") {
    auto closed = terminals->close(id);
    if (!closed) co_return command_refused(command, closed.error());
    co_return command_answered(command, answer_of(closed));
  }
  // term_read
  std::uint64_t offset = 0;
  std::int64_t wait_ms = 0;
  if (args.contains("offset")) {
    if (!args["offset"].is_number_unsigned()) {
      co_return command_refused(command,
                                {ErrorCode::invalid_argument, "offset is a byte count (>= 0)"});
    }
    offset = args["offset"].get<std::uint64_t>();
  }
  if (args.contains("wait_ms")) {
    if (!args["wait_ms"].is_number_integer() || args["wait_ms"].get<std::int64_t>() < 0) {
      co_return command_refused(
          command, {ErrorCode::invalid_argument, "wait_ms is a number of milliseconds (>= 0)"});
    }
    wait_ms = args["wait_ms"].get<std::int64_t>();
  }
  Task<Result<TerminalOutput>> reading = terminals->read(id, offset, milliseconds(wait_ms));
  Result<TerminalOutput> output = co_await reading;
  if (!output) co_return command_refused(command, output.error());
  co_return command_answered(command, Json{{"data_base64url", base64url_encode(output->data)},
                                           {"offset", output->offset},
                                           {"next", output->next},
                                           {"dropped", output->dropped},
                                           {"terminal", terminal_view_json(output->terminal)}});
}

}  // namespace reliant::daemon
