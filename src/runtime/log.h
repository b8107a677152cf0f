// Log: what components say about what they do (docs/architecture.md §4). Components never write
// to a terminal or file themselves: the real binaries plug in spdlog (text or JSON lines, the
// `--log-format` flag of every role); the simulator prefixes virtual time and node, keeps the
// last lines for its failure report, and feeds every line into the run's trace.
#pragma once

#include <string>
#include <string_view>

namespace reliant {

enum class LogLevel { debug, info, warn, error };
std::string_view to_string(LogLevel level);

class Log {
 public:
  virtual ~Log() = default;
  // Whether a line of `level` would be kept: callers skip building lines nobody reads.
  virtual bool enabled(LogLevel level) const = 0;
  // One line. `message` is plain text (no trailing newline); the sink adds time and origin.
  virtual void write(LogLevel level, std::string_view message) = 0;
};

}  // namespace reliant
