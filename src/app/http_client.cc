// Blocking Beast client: one connection per call, the same code over a TCP or a TLS stream.
#include "app/http_client.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <memory>
#include <optional>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "base/json_parse.h"

namespace reliant {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;

Result<HttpEndpoint> parse_http_endpoint(const std::string& url) {
  HttpEndpoint endpoint;
  std::string rest;
  if (url.rfind("https://", 0) == 0) {
    endpoint.tls = true;
    rest = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else {
    return fail(ErrorCode::invalid_argument,
                "server URL " + url + ": expected http://HOST:PORT or https://HOST:PORT");
  }
  if (auto slash = rest.find('/'); slash != std::string::npos) {
    endpoint.base_path = rest.substr(slash);
    while (!endpoint.base_path.empty() && endpoint.base_path.back() == '/')
      endpoint.base_path.pop_back();
    rest.resize(slash);
  }
  const auto colon = rest.rfind(':');
  endpoint.host = colon == std::string::npos ? rest : rest.substr(0, colon);
  endpoint.port = colon != std::string::npos ? rest.substr(colon + 1) : endpoint.tls ? "443" : "80";
  if (endpoint.host.empty() || endpoint.port.empty() ||
      endpoint.port.find_first_not_of("0123456789") != std::string::npos) {
    return fail(ErrorCode::invalid_argument,
                "server URL " + url + ": expected http://HOST:PORT or https://HOST:PORT");
  }
  return endpoint;
}

namespace {

// One connection: TCP, and TLS over it for https. The caller sets deadlines on `tcp`.
class Connection {
 public:
  explicit Connection(const HttpEndpoint& endpoint)
      : endpoint_(endpoint), tcp_(context_), resolver_(context_) {}

  Result<void> open(std::chrono::seconds timeout) {
    beast::error_code ec;
    auto addresses = resolver_.resolve(endpoint_.host, endpoint_.port, ec);
    if (ec) {
      return fail(ErrorCode::unavailable, "cannot resolve " + endpoint_.host + ": " + ec.message());
    }
    tcp_.expires_after(timeout);
    tcp_.connect(addresses, ec);
    if (ec) {
      return fail(ErrorCode::unavailable, "cannot connect to " + endpoint_.host + ":" +
                                              endpoint_.port + ": " + ec.message());
    }
    if (!endpoint_.tls) return {};
    return start_tls();
  }

  // Calls `f` with the byte stream: TLS or plain TCP.
  template <class F>
  auto with_stream(F&& f) {
    return tls_ ? f(*tls_) : f(tcp_);
  }
  beast::tcp_stream& tcp() { return tcp_; }

  void close() {
    beast::error_code ignored;
    tcp_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  }

 private:
  Result<void> start_tls() {
    const auto refused = [this](const std::string& why) {
      return fail(ErrorCode::unavailable,
                  "TLS with " + endpoint_.host + ":" + endpoint_.port + " failed: " + why);
    };
    ssl_.emplace(ssl::context::tls_client);
    beast::error_code ec;
    ssl_->set_options(ssl::context::no_sslv2 | ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                      ssl::context::no_tlsv1_1);
    if (endpoint_.insecure) {
      ssl_->set_verify_mode(ssl::verify_none);
    } else {
      ssl_->set_verify_mode(ssl::verify_peer);
      if (endpoint_.ca_file.empty()) {
        ssl_->set_default_verify_paths(ec);
      } else {
        ssl_->load_verify_file(endpoint_.ca_file, ec);
      }
      if (ec) return refused("cannot load CA roots " + endpoint_.ca_file + ": " + ec.message());
    }
    tls_.emplace(tcp_, *ssl_);
    SSL* handle = tls_->native_handle();
    // SNI, and the name (or IP address) the certificate must carry.
    beast::error_code parse_error;
    const auto ip = boost::asio::ip::make_address(endpoint_.host, parse_error);
    if (parse_error) SSL_set_tlsext_host_name(handle, endpoint_.host.c_str());
    if (!endpoint_.insecure) {
      X509_VERIFY_PARAM* param = SSL_get0_param(handle);
      const int set = parse_error ? X509_VERIFY_PARAM_set1_host(param, endpoint_.host.c_str(), 0)
                                  : X509_VERIFY_PARAM_set1_ip_asc(param, ip.to_string().c_str());
      if (set != 1) return refused("cannot check the name " + endpoint_.host);
    }
    tls_->handshake(ssl::stream_base::client, ec);
    if (ec) return refused(ec.message());
    return {};
  }

  const HttpEndpoint& endpoint_;
  boost::asio::io_context context_;
  beast::tcp_stream tcp_;
  tcp::resolver resolver_;
  std::optional<ssl::context> ssl_;
  std::optional<ssl::stream<beast::tcp_stream&>> tls_;
};

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

struct HttpSession::State {
  explicit State(HttpEndpoint e) : endpoint(std::move(e)) {}
  HttpEndpoint endpoint;
  std::unique_ptr<Connection> connection;  // null: the next call connects
  beast::flat_buffer buffer;
};

HttpSession::HttpSession(HttpEndpoint endpoint)
    : state_(std::make_unique<State>(std::move(endpoint))) {}

HttpSession::~HttpSession() {
  if (state_->connection) state_->connection->close();
}

Result<HttpReply> HttpSession::call(const std::string& method, const std::string& target,
                                    const HttpHeaders& headers, const std::string& body,
                                    std::chrono::seconds timeout) {
  State& s = *state_;
  if (!s.connection) {
    s.connection = std::make_unique<Connection>(s.endpoint);
    s.buffer.clear();
    if (auto ok = s.connection->open(timeout); !ok) {
      s.connection.reset();
      return fail(ok.error());
    }
  }
  // Whatever goes wrong, the connection is not reused: its state is unknown.
  Connection& connection = *s.connection;
  beast::error_code ec;
  auto request = make_request(s.endpoint, method, target, headers, body);
  connection.tcp().expires_after(timeout);
  connection.with_stream([&](auto& stream) { http::write(stream, request, ec); });
  if (ec) {
    s.connection.reset();
    return fail(lost(ec, s.endpoint));
  }
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  connection.with_stream([&](auto& stream) { http::read(stream, s.buffer, parser, ec); });
  if (ec) {
    s.connection.reset();
    return fail(lost(ec, s.endpoint));
  }
  if (!parser.get().keep_alive()) {
    connection.close();
    s.connection.reset();
  }
  return HttpReply{static_cast<int>(parser.get().result_int()), parser.get().body()};
}

Result<HttpReply> http_call(const HttpEndpoint& endpoint, const std::string& method,
                            const std::string& target, const HttpHeaders& headers,
                            const std::string& body, std::chrono::seconds timeout) {
  HttpSession session(endpoint);
  return session.call(method, target, headers, body, timeout);
}

Result<HttpReply> http_stream(const HttpEndpoint& endpoint, const std::string& target,
                              const HttpHeaders& headers,
                              const std::function<bool(std::string_view)>& on_data,
                              std::chrono::seconds idle_timeout) {
  Connection connection(endpoint);
  if (auto ok = connection.open(idle_timeout); !ok) return fail(ok.error());
  beast::error_code ec;
  auto request = make_request(endpoint, "GET", target, headers, "");
  request.set(http::field::accept, "text/event-stream");
  connection.tcp().expires_after(idle_timeout);
  connection.with_stream([&](auto& stream) { http::write(stream, request, ec); });
  if (ec) return fail(lost(ec, endpoint));
  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(
      std::numeric_limits<std::uint64_t>::max());  // boost::none fails on Content-Length in 1.74
  connection.with_stream([&](auto& stream) { http::read_header(stream, buffer, parser, ec); });
  if (ec) return fail(lost(ec, endpoint));
  HttpReply reply{static_cast<int>(parser.get().result_int()), {}};
  char chunk[16 * 1024];
  const bool ok_status = reply.status / 100 == 2;
  while (!parser.is_done()) {
    parser.get().body().data = chunk;
    parser.get().body().size = sizeof chunk;
    connection.tcp().expires_after(idle_timeout);
    // Returns as soon as some body arrived.
    connection.with_stream([&](auto& stream) { http::read_some(stream, buffer, parser, ec); });
    if (ec == http::error::need_buffer) ec = {};
    if (ec) return fail(lost(ec, endpoint));
    const std::string_view data(chunk, sizeof chunk - parser.get().body().size);
    if (!ok_status) {
      reply.body.append(data);
    } else if (!data.empty() && !on_data(data)) {
      break;
    }
  }
  connection.close();
  return reply;
}

std::string server_error(const HttpReply& reply) {
  auto body = parse_json_or_discarded(reply.body, kStoredJsonDepthMax);
  std::string message = reply.body;
  if (!body.is_discarded() && body.contains("error") && body["error"].is_object()) {
    message = body["error"].value("message", reply.body);
  }
  return "server answered " + std::to_string(reply.status) + ": " + message;
}

Result<nlohmann::json> http_json_call(const HttpEndpoint& endpoint, const std::string& method,
                                      const std::string& target, const HttpHeaders& headers,
                                      const nlohmann::json& body, int* status) {
  auto reply = http_call(endpoint, method, target, headers, body.is_null() ? "" : body.dump());
  if (status != nullptr) *status = reply ? reply->status : 0;
  if (!reply) return fail(reply.error());
  if (reply->status / 100 != 2) {
    const ErrorCode code = reply->status == 401 || reply->status == 403 ? ErrorCode::unauthenticated
                           : reply->status == 404                       ? ErrorCode::not_found
                           : reply->status / 100 == 4 ? ErrorCode::failed_precondition
                                                      : ErrorCode::internal;
    return fail(code, server_error(*reply));
  }
  // Answers carry stored documents (a chat's messages with their tool inputs).
  auto json = parse_json_or_discarded(reply->body, kStoredJsonDepthMax);
  if (json.is_discarded()) return fail(ErrorCode::internal, "the server's answer is not JSON");
  return json;
}

}  // namespace reliant
