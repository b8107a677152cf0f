// Names of error codes, for messages and logs.
#include "base/error.h"

namespace reliant {

std::string_view to_string(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::invalid_argument:
      return "invalid_argument";
    case ErrorCode::not_found:
      return "not_found";
    case ErrorCode::already_exists:
      return "already_exists";
    case ErrorCode::unavailable:
      return "unavailable";
    case ErrorCode::timeout:
      return "timeout";
    case ErrorCode::no_responders:
      return "no_responders";
    case ErrorCode::closed:
      return "closed";
    case ErrorCode::cancelled:
      return "cancelled";
    case ErrorCode::unauthenticated:
      return "unauthenticated";
    case ErrorCode::permission_denied:
      return "permission_denied";
    case ErrorCode::resource_exhausted:
      return "resource_exhausted";
    case ErrorCode::failed_precondition:
      return "failed_precondition";
    case ErrorCode::outcome_unknown:
      return "outcome_unknown";
    case ErrorCode::internal:
      return "internal";
  }
  return "unknown";
}

std::string Error::describe() const {
  std::string out(to_string(code));
  if (!message.empty()) {
    out += ": ";
    out += message;
  }
  return out;
}

}  // namespace reliant
