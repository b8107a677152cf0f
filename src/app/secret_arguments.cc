// Copying the arguments and overwriting secrets in the originals (secret_arguments.h).
#include "app/secret_arguments.h"

#include <spdlog/spdlog.h>

namespace reliant {
namespace {

void overwrite(char* text) {
  for (char* c = text; *c != '\0'; ++c) *c = '*';
}

}  // namespace

ScrubbedArguments scrub_secret_arguments(int argc, char** argv,
                                         const std::vector<std::string_view>& secret_flags) {
  ScrubbedArguments out;
  out.copies.reserve(static_cast<std::size_t>(argc));
  for (int i = 0; i < argc; ++i) out.copies.emplace_back(argv[i]);
  for (std::string& copy : out.copies) out.argv.push_back(copy.data());
  out.argv.push_back(nullptr);
  // The kernel shows the memory the arguments were passed in: overwriting it hides them.
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") break;  // what follows is not a flag
    for (const std::string_view flag : secret_flags) {
      if (arg == flag && i + 1 < argc) {
        overwrite(argv[i + 1]);
        out.scrubbed.emplace_back(flag);
      } else if (arg.size() > flag.size() && arg.starts_with(flag) && arg[flag.size()] == '=') {
        overwrite(argv[i] + flag.size() + 1);
        out.scrubbed.emplace_back(flag);
      }
    }
  }
  return out;
}

void warn_secret_argument(const std::string& flag) {
  spdlog::warn(
      "{} was given on the command line, where other local users could read it (ps, "
      "/proc/PID/cmdline) until it was overwritten: pass it with {}-file FILE or the "
      "environment (LLM_API_KEY) instead",
      flag, flag);
}

}  // namespace reliant
