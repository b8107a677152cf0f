// Blocking Beast client: one connection per call.
#include "app/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace reliant {

namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

Result<HttpEndpoint> parse_http_endpoint(const std::string& url) {
  constexpr std::string_view scheme = "http://";
  if (url.rfind("https://", 0) == 0) {
    return fail(ErrorCode::invalid_argument,
                "server URL " + url + ": https is not supported by this client yet; use http://");
  }
  if (url.rfind(scheme, 0) != 0) {
    return fail(ErrorCode::invalid_argument, "server URL " + url + ": expected http://HOST:PORT");
  }
  std::string rest = url.substr(scheme.size());
  HttpEndpoint endpoint;
  if (auto slash = rest.find('/'); slash != std::string::npos) {
    endpoint.base_path = rest.substr(slash);
    while (!endpoint.base_path.empty() && endpoint.base_path.back() == '/')
      endpoint.base_path.pop_back();
    rest.resize(slash);
  }
  const auto colon = rest.rfind(':');
  endpoint.host = colon == std::string::npos ? rest : rest.substr(0, colon);
  endpoint.port = colon == std::string::npos ? "80" : rest.substr(colon + 1);
  if (endpoint.host.empty() || endpoint.port.empty() ||
      endpoint.port.find_first_not_of("0123456789") != std::string::npos) {
    return fail(ErrorCode::invalid_argument, "server URL " + url + ": expected http://HOST:PORT");
  }
  return endpoint;
}

namespace {

Result<void> connect(tcp::resolver& resolver, beast::tcp_stream& stream,
                     const HttpEndpoint& endpoint, std::chrono::seconds timeout) {
  beast::error_code ec;
  auto addresses = resolver.resolve(endpoint.host, endpoint.port, ec);
  if (ec)
    return fail(ErrorCode::unavailable, "cannot resolve " + endpoint.host + ": " + ec.message());
  stream.expires_after(timeout);
  stream.connect(addresses, ec);
  if (ec) {
    return fail(ErrorCode::unavailable,
                "cannot connect to " + endpoint.host + ":" + endpoint.port + ": " + ec.message());
  }
  return {};
}

http::request<http::string_body> make_request(const HttpEndpoint& endpoint,
                                              const std::string& method, const std::string& target,
                                              const HttpHeaders& headers, const std::string& body) {
  http::request<http::string_body> request{http::string_to_verb(method),
                                           endpoint.base_path + target, 11};
  request.set(http::field::host, endpoint.host);
  request.set(http::field::user_agent, "reliant-cli");
  for (const auto& [name, value] : headers) request.set(name, value);
  if (!body.empty()) {
    request.set(http::field::content_type, "application/json");
    request.body() = body;
  }
  request.prepare_payload();
  return request;
}

Error lost(const beast::error_code& ec, const HttpEndpoint& endpoint) {
  if (ec == beast::error::timeout) {
    return {ErrorCode::timeout,
            "no answer from " + endpoint.host + ":" + endpoint.port + " in time"};
  }
  return {ErrorCode::unavailable,
          "connection to " + endpoint.host + ":" + endpoint.port + " lost: " + ec.message()};
}

}  // namespace

Result<HttpReply> http_call(const HttpEndpoint& endpoint, const std::string& method,
                            const std::string& target, const HttpHeaders& headers,
                            const std::string& body, std::chrono::seconds timeout) {
  boost::asio::io_context context;
  tcp::resolver resolver(context);
  beast::tcp_stream stream(context);
  if (auto ok = connect(resolver, stream, endpoint, timeout); !ok) return fail(ok.error());
  beast::error_code ec;
  auto request = make_request(endpoint, method, target, headers, body);
  stream.expires_after(timeout);
  http::write(stream, request, ec);
  if (ec) return fail(lost(ec, endpoint));
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  http::read(stream, buffer, parser, ec);
  if (ec) return fail(lost(ec, endpoint));
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  return HttpReply{static_cast<int>(parser.get().result_int()), parser.get().body()};
}

Result<HttpReply> http_stream(const HttpEndpoint& endpoint, const std::string& target,
                              const HttpHeaders& headers,
                              const std::function<bool(std::string_view)>& on_data,
                              std::chrono::seconds idle_timeout) {
  boost::asio::io_context context;
  tcp::resolver resolver(context);
  beast::tcp_stream stream(context);
  if (auto ok = connect(resolver, stream, endpoint, idle_timeout); !ok) return fail(ok.error());
  beast::error_code ec;
  auto request = make_request(endpoint, "GET", target, headers, "");
  request.set(http::field::accept, "text/event-stream");
  stream.expires_after(idle_timeout);
  http::write(stream, request, ec);
  if (ec) return fail(lost(ec, endpoint));
  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(
      std::numeric_limits<std::uint64_t>::max());  // boost::none fails on Content-Length in 1.74
  http::read_header(stream, buffer, parser, ec);
  if (ec) return fail(lost(ec, endpoint));
  HttpReply reply{static_cast<int>(parser.get().result_int()), {}};
  char chunk[16 * 1024];
  const bool ok_status = reply.status / 100 == 2;
  while (!parser.is_done()) {
    parser.get().body().data = chunk;
    parser.get().body().size = sizeof chunk;
    stream.expires_after(idle_timeout);
    http::read_some(stream, buffer, parser, ec);  // returns as soon as some body arrived
    if (ec == http::error::need_buffer) ec = {};
    if (ec) return fail(lost(ec, endpoint));
    const std::string_view data(chunk, sizeof chunk - parser.get().body().size);
    if (!ok_status) {
      reply.body.append(data);
    } else if (!data.empty() && !on_data(data)) {
      break;
    }
  }
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  return reply;
}

std::string url_encode(std::string_view text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

}  // namespace reliant
