// Result<T>: a value or an Error (tl::expected), the return type of everything that can fail.
#pragma once

#include <string>
#include <utility>

#include <tl/expected.hpp>

#include "base/error.h"

namespace reliant {

template <class T>
using Result = tl::expected<T, Error>;

// `return fail(ErrorCode::timeout, "no reply");` converts to any Result<T>.
inline tl::unexpected<Error> fail(ErrorCode code, std::string message) {
  return tl::unexpected<Error>(Error{code, std::move(message)});
}

inline tl::unexpected<Error> fail(Error error) { return tl::unexpected<Error>(std::move(error)); }

}  // namespace reliant
