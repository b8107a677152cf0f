// Failure path of RELIANT_ASSERT: print where and why, then abort (a core dump beats limping on).
#include "base/assert.h"

#include <cstdio>
#include <cstdlib>

namespace reliant::detail {

void assert_failed(const char* expression, const char* message, const char* file,
                   int line) noexcept {
  std::fprintf(stderr, "%s:%d: assertion failed: %s%s%s\n", file, line, expression,
               message ? " — " : "", message ? message : "");
  std::fflush(stderr);
  std::abort();
}

}  // namespace reliant::detail
