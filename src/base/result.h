// Result<T>: a value or an Error (tl::expected), the return type of everything that can fail.
#pragma once

#include <string>
#include <utility>

#include <tl/expected.hpp>

#include "base/error.h"

namespace reliant {

// tl::expected with [[nodiscard]]: a failure nobody looks at is a bug, so ignoring a Result
// does not compile (-Werror); say `(void)` where dropping it is deliberate, and why.
template <class T>
class [[nodiscard]] Result : public tl::expected<T, Error> {
 public:
  using Base = tl::expected<T, Error>;
  using Base::Base;
  Result() = default;
  Result(const Base& other) : Base(other) {}        // NOLINT: implicit, like expected's own
  Result(Base&& other) : Base(std::move(other)) {}  // NOLINT
};

// `return fail(ErrorCode::timeout, "no reply");` converts to any Result<T>.
inline tl::unexpected<Error> fail(ErrorCode code, std::string message) {
  return tl::unexpected<Error>(Error{code, std::move(message)});
}

inline tl::unexpected<Error> fail(Error error) { return tl::unexpected<Error>(std::move(error)); }

}  // namespace reliant
