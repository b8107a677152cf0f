// The host adapter's one mapping from errno to the project's error codes, shared by its process
// and file code.
#pragma once

#include <cerrno>
#include <cstring>
#include <string>

#include "base/error.h"

namespace reliant {

inline Error from_errno(int error, const std::string& what) {
  const std::string message = what + ": " + std::strerror(error);
  switch (error) {
    case ENOENT:
      return Error{ErrorCode::not_found, message};
    case EACCES:
    case EPERM:
      return Error{ErrorCode::permission_denied, message};
    case EISDIR:
    case ENOTDIR:
    case EEXIST:
    case EINVAL:
    case ELOOP:
    case ENAMETOOLONG:
      return Error{ErrorCode::invalid_argument, message};
    case EMFILE:
    case ENFILE:
    case ENOSPC:
    case EAGAIN:
    case ENOMEM:
    case EDQUOT:
    case EFBIG:
      return Error{ErrorCode::resource_exhausted, message};
    default:
      return Error{ErrorCode::internal, message};
  }
}

}  // namespace reliant
