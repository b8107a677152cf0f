// Logging for every role of the `reliant` binary: spdlog as text or JSON lines (`--log-format`,
// LOG_FORMAT), and the Log port the components write through.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"
#include "runtime/log.h"

namespace reliant {

// "text" (the default) or "json": one JSON object per line, {"time","level","message"}, with the
// message escaped. Fails with invalid_argument for anything else.
Result<void> configure_logging(const std::string& format);

// The components' Log on spdlog's default logger.
class SpdlogLog final : public Log {
 public:
  bool enabled(LogLevel level) const override;
  void write(LogLevel level, std::string_view message) override;
};

// A command that cannot go on: logs `error`'s message (after "context: " when there is one) and
// returns `exit_code` for the command to exit with. `if (!x) return exit_after(x.error(), 1);`
int exit_after(const Error& error, int exit_code, std::string_view context = {});

}  // namespace reliant
