// RELIANT_ASSERT: invariant checks that stay on in every build type (docs/architecture.md §10).
#pragma once

namespace reliant::detail {
[[noreturn]] void assert_failed(const char* expression, const char* message, const char* file,
                                int line) noexcept;
}  // namespace reliant::detail

#define RELIANT_ASSERT(cond)                                                \
  do {                                                                      \
    if (!(cond)) [[unlikely]]                                               \
      ::reliant::detail::assert_failed(#cond, nullptr, __FILE__, __LINE__); \
  } while (false)

#define RELIANT_ASSERT_MSG(cond, msg)                                     \
  do {                                                                    \
    if (!(cond)) [[unlikely]]                                             \
      ::reliant::detail::assert_failed(#cond, (msg), __FILE__, __LINE__); \
  } while (false)
