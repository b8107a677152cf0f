// HealthServer over a real loopback socket: /health, /ready (ready or not, and why), 404, 405.
#include "adapters/http/health_server.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace reliant {
namespace {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;
using tcp = boost::asio::ip::tcp;

class HealthServerTest : public ::testing::Test {
 protected:
  void start() {
    auto started = HealthServer::start(executor_, "127.0.0.1", 0, [this] { return why_not_; });
    ASSERT_TRUE(started) << started.error().describe();
    server_ = std::move(*started);
    loop_ = std::thread([this] { executor_.run(); });
  }

  void TearDown() override {
    if (loop_.joinable()) {
      executor_.stop();
      loop_.join();
    }
    server_.reset();
  }

  http::response<http::string_body> call(http::verb method, const std::string& target) {
    net::io_context context;
    tcp::socket socket(context);
    socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"),
                                 static_cast<unsigned short>(server_->port())));
    http::request<http::string_body> request(method, target, 11);
    request.set(http::field::host, "127.0.0.1");
    http::write(socket, request);
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    http::read(socket, buffer, response);
    return response;
  }

  AsioExecutor executor_;
  std::string why_not_;  // written before start(): the probe reads it on the loop thread
  std::unique_ptr<HealthServer> server_;
  std::thread loop_;
};

TEST_F(HealthServerTest, AnswersHealthAndReadiness) {
  start();
  const auto health = call(http::verb::get, "/health");
  EXPECT_EQ(health.result_int(), 200);
  EXPECT_EQ(health.body(), R"({"status":"ok"})");
  const auto ready = call(http::verb::get, "/ready");
  EXPECT_EQ(ready.result_int(), 200);
  EXPECT_EQ(ready.body(), R"({"status":"ready"})");
  EXPECT_EQ(call(http::verb::get, "/elsewhere").result_int(), 404);
  EXPECT_EQ(call(http::verb::post, "/health").result_int(), 405);
}

TEST_F(HealthServerTest, NotReadySaysWhy) {
  why_not_ = "store: \"db\" down";
  start();
  const auto ready = call(http::verb::get, "/ready");
  EXPECT_EQ(ready.result_int(), 503);
  EXPECT_EQ(ready.body(), R"({"status":"not ready","reason":"store: \"db\" down"})");
}

TEST(HealthServer, BadAddressIsAnError) {
  AsioExecutor executor;
  auto started = HealthServer::start(executor, "not-an-address", 0, [] { return std::string(); });
  ASSERT_FALSE(started);
  EXPECT_EQ(started.error().code, ErrorCode::invalid_argument);
}

}  // namespace
}  // namespace reliant
