// A minimal Beast HTTP/1.1 server: one request per connection, three answers (200, 503, 404).
#include "adapters/http/health_server.h"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace reliant {

namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

struct HealthServer::State : std::enable_shared_from_this<HealthServer::State> {
  State(boost::asio::io_context& context, ReadinessProbe probe) : acceptor(context), ready(std::move(probe)) {}
  tcp::acceptor acceptor;
  ReadinessProbe ready;
  bool stopped = false;

  void accept() {
    acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
      if (self->stopped) return;
      if (!ec) self->serve(std::make_shared<tcp::socket>(std::move(socket)));
      self->accept();
    });
  }

  void serve(std::shared_ptr<tcp::socket> socket) {
    auto buffer = std::make_shared<beast::flat_buffer>();
    auto request = std::make_shared<http::request<http::string_body>>();
    http::async_read(*socket, *buffer, *request,
                     [self = shared_from_this(), socket, buffer, request](beast::error_code ec, std::size_t) {
                       if (ec) return;
                       auto response = std::make_shared<http::response<http::string_body>>(
                           self->answer(*request));
                       http::async_write(*socket, *response, [socket, response](beast::error_code, std::size_t) {
                         beast::error_code ignored;
                         socket->shutdown(tcp::socket::shutdown_both, ignored);
                       });
                     });
  }

  http::response<http::string_body> answer(const http::request<http::string_body>& request) {
    http::response<http::string_body> response;
    response.version(request.version());
    response.keep_alive(false);
    response.set(http::field::content_type, "application/json");
    const auto target = request.target();
    if (request.method() != http::verb::get) {
      response.result(http::status::method_not_allowed);
      response.body() = R"({"error":"use GET"})";
    } else if (target == "/health") {
      response.result(http::status::ok);
      response.body() = R"({"status":"ok"})";
    } else if (target == "/ready") {
      const std::string why = ready();
      if (why.empty()) {
        response.result(http::status::ok);
        response.body() = R"({"status":"ready"})";
      } else {
        response.result(http::status::service_unavailable);
        std::string escaped;
        for (char c : why) {
          if (c == '"' || c == '\\') escaped.push_back('\\');
          if (static_cast<unsigned char>(c) >= 0x20) escaped.push_back(c);
        }
        response.body() = R"({"status":"not ready","reason":")" + escaped + "\"}";
      }
    } else {
      response.result(http::status::not_found);
      response.body() = R"({"error":"not found: use /health or /ready"})";
    }
    response.prepare_payload();
    return response;
  }
};

Result<std::unique_ptr<HealthServer>> HealthServer::start(boost::asio::io_context& context,
                                                          const std::string& bind_address, int port,
                                                          ReadinessProbe ready) {
  auto state = std::make_shared<State>(context, std::move(ready));
  beast::error_code ec;
  const auto address = boost::asio::ip::make_address(bind_address, ec);
  if (ec) return fail(ErrorCode::invalid_argument, "'" + bind_address + "' is not an IP address");
  const tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
  state->acceptor.open(endpoint.protocol(), ec);
  if (!ec) state->acceptor.set_option(boost::asio::socket_base::reuse_address(true), ec);
  if (!ec) state->acceptor.bind(endpoint, ec);
  if (!ec) state->acceptor.listen(boost::asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return fail(ErrorCode::unavailable, "cannot serve health checks on " + bind_address + ":" +
                                            std::to_string(port) + ": " + ec.message());
  }
  const int bound = state->acceptor.local_endpoint().port();
  state->accept();
  return std::unique_ptr<HealthServer>(new HealthServer(std::move(state), bound));
}

HealthServer::~HealthServer() {
  state_->stopped = true;
  beast::error_code ignored;
  state_->acceptor.close(ignored);
}

}  // namespace reliant
