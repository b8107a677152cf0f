// Error: the value every expected failure is reported with, across every port and layer.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace reliant {

// Kinds of failure callers branch on. Keep the list short: the message carries the detail.
enum class ErrorCode {
  invalid_argument,     // the caller's input is wrong; retrying will not help
  not_found,            // the thing named does not exist
  already_exists,       // a create found the thing already there
  unavailable,          // the peer or service cannot be reached now; retry may help
  timeout,              // no answer within the deadline
  no_responders,        // a bus request found nobody subscribed (NATS 503)
  closed,               // the stream, subscription or connection is closed
  cancelled,            // the caller cancelled the operation
  unauthenticated,      // missing or wrong credentials
  permission_denied,    // credentials valid, access refused
  resource_exhausted,   // a limit was hit (size, queue length, rate)
  failed_precondition,  // the system is not in a state that allows the operation
  outcome_unknown,      // the operation may or may not have happened (e.g. commit then crash)
  internal,             // a bug or an unexpected library failure
  unimplemented,        // the peer does not offer the operation (an older daemon, say)
  // (the last code: error_code_named counts up to it)
};

std::string_view to_string(ErrorCode code) noexcept;
// The code `to_string` names `name`; nullopt for a name it never gives.
std::optional<ErrorCode> error_code_named(std::string_view name) noexcept;

struct Error {
  ErrorCode code;
  std::string message;
  // Set when `message` is another system's own text — a database's error, an SQL statement —
  // which belongs in the server's log but never in an answer to a client (client_message()).
  bool internal_message = false;

  // "timeout: no reply on echo.a within 2s"
  std::string describe() const;
};

// What a client may be told about `error`: its message, unless that message is internal or the
// failure is the server's own (internal, outcome_unknown: details for operators, not callers);
// then a fixed sentence for its code. Servers log describe() whenever the two differ.
std::string client_message(const Error& error);

}  // namespace reliant
