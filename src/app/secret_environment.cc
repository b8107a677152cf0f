// Secret variables overwritten in the process's own environment block; PR_SET_DUMPABLE off.
#include "app/secret_environment.h"

#include <sys/prctl.h>

#include <cstring>
#include <string>

extern char** environ;

namespace reliant {

bool is_secret_variable(std::string_view name) {
  std::string upper(name);
  for (char& c : upper) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  const std::string_view n = upper;
  return n.ends_with("_API_KEY") || n.ends_with("_TOKEN") || n.ends_with("_PASSWORD") ||
         n == "DATABASE_URL" || n == "PGPASSWORD" || n.find("SECRET") != std::string_view::npos;
}

int protect_secret_environment() {
  int scrubbed = 0;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    char* equals = std::strchr(*entry, '=');
    if (equals == nullptr) continue;
    if (!is_secret_variable(std::string_view(*entry, static_cast<std::size_t>(equals - *entry)))) {
      continue;
    }
    // In place: /proc/<pid>/environ shows this very memory (the block the kernel set up).
    for (char* c = equals + 1; *c != '\0'; ++c) *c = '*';
    ++scrubbed;
  }
  (void)::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  return scrubbed;
}

}  // namespace reliant
