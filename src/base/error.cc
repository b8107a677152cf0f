// Names of error codes, for messages and logs, and what of an error a client may see.
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
    case ErrorCode::unimplemented:
      return "unimplemented";
  }
  return "unknown";
}

std::optional<ErrorCode> error_code_named(std::string_view name) noexcept {
  for (int each = 0; each <= static_cast<int>(ErrorCode::unimplemented); ++each) {
    const auto code = static_cast<ErrorCode>(each);
    if (to_string(code) == name) return code;
  }
  return std::nullopt;
}

std::string Error::describe() const {
  std::string out(to_string(code));
  if (!message.empty()) {
    out += ": ";
    out += message;
  }
  return out;
}

namespace {

// Says what kind of failure it was and nothing of how it came about.
std::string_view generic_message(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::invalid_argument:
      return "the request cannot be carried out as given";
    case ErrorCode::not_found:
      return "not found";
    case ErrorCode::already_exists:
      return "it already exists";
    case ErrorCode::unavailable:
      return "the service is unavailable right now: try again";
    case ErrorCode::timeout:
      return "the operation timed out";
    case ErrorCode::no_responders:
      return "nobody is there to answer";
    case ErrorCode::closed:
      return "the connection closed";
    case ErrorCode::cancelled:
      return "cancelled";
    case ErrorCode::unauthenticated:
      return "not signed in";
    case ErrorCode::permission_denied:
      return "not allowed";
    case ErrorCode::resource_exhausted:
      return "a limit was reached";
    case ErrorCode::failed_precondition:
      return "the request conflicts with the current state";
    case ErrorCode::outcome_unknown:
      return "the outcome is unknown: the change may or may not have been made";
    case ErrorCode::internal:
      return "internal error (the server's log has the details)";
    case ErrorCode::unimplemented:
      return "the operation is not offered by the peer that was asked (an older version of it?)";
  }
  return "error";
}

}  // namespace

std::string client_message(const Error& error) {
  const bool servers_own =
      error.code == ErrorCode::internal || error.code == ErrorCode::outcome_unknown;
  if (!error.internal_message && !servers_own) return error.message;
  return std::string(generic_message(error.code));
}

}  // namespace reliant
