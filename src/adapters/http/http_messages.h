// The messages HttpServer reads and writes, as Beast holds them, and the rules it holds them to:
// a request into the runtime's HttpRequest, a handler's HttpResponse into a Beast response with
// only the headers a handler may set, error bodies, and the framing and Host problems for which
// a request is refused before any handler sees it (two HTTP implementations could read it
// differently).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/beast/http.hpp>

#include "runtime/http.h"

namespace reliant::http_messages {

namespace beast = boost::beast;
namespace http = boost::beast::http;

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// Boost 1.74's Beast hands out boost::string_view.
inline std::string_view view(beast::string_view text) { return {text.data(), text.size()}; }

// ASCII only: header names and methods.
std::string lower_case(std::string_view text);
std::string upper_case(std::string_view text);

// The request as handlers see it: the method upper-cased, the path percent-decoded, the query
// parsed, header names lower-cased; from the peer at `remote_address`, whose per-client limits
// count under `client_key`.
HttpRequest to_request(http::request<http::string_body>& message, const std::string& remote_address,
                       const std::string& client_key);

std::string error_json(const std::string& message);

HttpResponse error_response(int status, const std::string& message);

// Handlers must not forge the framing (which this server owns) or split the head with newlines.
bool header_allowed(const std::string& name, const std::string& value);

// A final status a client understands; anything else is the handler's bug, shown as 500.
unsigned final_status(int status);

inline bool without_body(unsigned status) { return status == 204 || status == 304; }

// The handler's headers that header_allowed lets through, then the CORS headers.
template <class Body>
void add_headers(http::response<Body>& message, const HeaderList& handler_headers,
                 const HeaderList& cors_headers) {
  for (const auto& [name, value] : handler_headers) {
    if (header_allowed(name, value)) message.insert(name, value);
  }
  for (const auto& [name, value] : cors_headers) message.set(name, value);
}

std::shared_ptr<http::response<http::string_body>> to_message(HttpResponse response,
                                                              unsigned version, bool keep_alive,
                                                              bool head_request,
                                                              const HeaderList& cors_headers);

bool is_parse_error(beast::error_code ec);

// Why a request's framing is refused; empty when it is sound.
//
// Beast 1.74's parser (basic_parser.ipp, on_field_impl) frames a body as chunked only when
// "chunked" is the last coding of Transfer-Encoding and otherwise lets the header go without a
// word: a request with `Transfer-Encoding: chunked, identity` (or `identity`, or `gzip`) is read
// as having no body, and the bytes its sender meant as the body are parsed as the next request
// on the connection. A proxy in front that frames the same bytes by the header's meaning sees
// one request where we answer two: request smuggling. Beast refuses Content-Length after
// `chunked` (bad_content_length) and Transfer-Encoding after Content-Length
// (bad_transfer_encoding), but takes `Transfer-Encoding: identity` followed by Content-Length
// and frames the body by the length. So, after the parser: a request may carry
// Transfer-Encoding only as exactly `chunked` (the one coding we implement), without
// Content-Length (RFC 9112 §6.1 lets a server reject both; §6.3: chunked not last is a 400 and a
// close), and not in HTTP/1.0 (§6.1: its framing is faulty).
std::string framing_problem(const http::request_parser<http::string_body>& parser);

// Why a request's Host header is refused; empty when it is sound. RFC 9112 §3.2: a server
// must answer 400 to an HTTP/1.1 request without Host, and to any request with more than one
// (two servers behind one address could each route it by a different one).
std::string host_problem(const http::request<http::string_body>& message);

}  // namespace reliant::http_messages
