// spdlog set up as text or JSON lines; SpdlogLog forwards components' lines to it.
#include "app/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <nlohmann/json.hpp>

namespace reliant {
namespace {

// {"time":"2026-01-01T00:00:00.000Z","level":"info","message":"…"}: the message escaped as a
// JSON string, whatever it holds (quotes, newlines, invalid UTF-8 replaced).
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    time_.format(msg, dest);
    const nlohmann::json line = {
        {"level", std::string(spdlog::level::to_string_view(msg.level).data(),
                              spdlog::level::to_string_view(msg.level).size())},
        {"message", std::string(msg.payload.data(), msg.payload.size())}};
    std::string body = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    // Spliced after the time, which the pattern formatter wrote as `{"time":"…",`.
    dest.append(body.data() + 1, body.data() + body.size());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }

 private:
  spdlog::pattern_formatter time_{R"({"time":"%Y-%m-%dT%H:%M:%S.%e%z",)",
                                  spdlog::pattern_time_type::utc, ""};
};

spdlog::level::level_enum spdlog_level(LogLevel level) {
  switch (level) {
    case LogLevel::debug:
      return spdlog::level::debug;
    case LogLevel::info:
      return spdlog::level::info;
    case LogLevel::warn:
      return spdlog::level::warn;
    case LogLevel::error:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

}  // namespace

Result<void> configure_logging(const std::string& format) {
  if (format == "text") return {};
  if (format != "json") {
    return fail(ErrorCode::invalid_argument,
                "--log-format must be text or json, not '" + format + "'");
  }
  spdlog::set_formatter(std::make_unique<JsonFormatter>());
  return {};
}

bool SpdlogLog::enabled(LogLevel level) const {
  return spdlog::default_logger_raw()->should_log(spdlog_level(level));
}

void SpdlogLog::write(LogLevel level, std::string_view message) {
  spdlog::default_logger_raw()->log(spdlog_level(level), "{}", message);
}

int exit_after(const Error& error, int exit_code, std::string_view context) {
  if (context.empty()) {
    spdlog::error("{}", error.message);
  } else {
    spdlog::error("{}: {}", context, error.message);
  }
  return exit_code;
}

}  // namespace reliant
