// Secrets given as command-line flags (`--llm-api-key KEY`): every local user reads a process's
// arguments through `ps` and /proc/PID/cmdline. The parser gets copies; the originals are
// overwritten, so the process's command line no longer shows the secret once it has started.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace reliant {

// The flags whose values are secrets.
inline const std::vector<std::string_view> kSecretFlags = {"--llm-api-key"};

struct ScrubbedArguments {
  std::vector<std::string> copies;    // the arguments as given
  std::vector<char*> argv;            // pointers into `copies`, then a null pointer, for the parser
  std::vector<std::string> scrubbed;  // the secret flags that were given (for a warning)
  int argc() const { return static_cast<int>(copies.size()); }
};

// Copies argv[0..argc), then overwrites in place the value of each flag of `secret_flags`
// (`--flag VALUE` and `--flag=VALUE`) with '*'.
ScrubbedArguments scrub_secret_arguments(int argc, char** argv,
                                         const std::vector<std::string_view>& secret_flags);

// Logs that `flag`'s value was on the command line, and how to pass it instead.
void warn_secret_argument(const std::string& flag);

}  // namespace reliant
