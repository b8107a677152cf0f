// The LLM adapters against a scripted provider on loopback: streamed text and tool calls in the
// documented SSE formats (split across TCP writes mid-event), the request bodies they send,
// retries, error mapping and cut or malformed streams; plus the pure SSE parser and settings.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>

#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "adapters/llm/anthropic_llm.h"
#include "adapters/llm/llm_config.h"
#include "adapters/llm/llm_http.h"
#include "adapters/llm/openai_llm.h"
#include "core/sse.h"
#include "runtime/scope.h"
#include "unit/support/await_into.h"
#include "unit/support/temp_dir.h"

namespace reliant::llm {
namespace {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using Json = nlohmann::json;

constexpr const char* kKey = "sk-test-SECRET-0123456789";

// ---------------------------------------------------------------------------------------------
// The scripted provider: one thread, one connection at a time, each answered by the next reply.

struct Write {
  std::string bytes;
  std::chrono::microseconds pause_after{200};  // lets each write leave as its own segment
};
using Reply = std::vector<Write>;

struct Recorded {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

// A self-signed certificate for DNS:localhost only, written as PEM for the client's ca_file.
struct TestCertificate {
  template <class T, void (*Free)(T*)>
  struct Deleter {
    void operator()(T* p) const { Free(p); }
  };
  std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>> key{EVP_EC_gen("P-256")};
  std::unique_ptr<X509, Deleter<X509, X509_free>> cert{X509_new()};
  testing::TempDir dir{"reliant-llm"};
  std::string cert_file = dir.string() + "/cert.pem";

  TestCertificate() {
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
    X509_set_pubkey(cert.get(), key.get());
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
    X509_set_issuer_name(cert.get(), name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
    X509_EXTENSION* san = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, "DNS:localhost");
    X509_add_ext(cert.get(), san, -1);
    X509_EXTENSION_free(san);
    X509_sign(cert.get(), key.get(), EVP_sha256());
    FILE* out = std::fopen(cert_file.c_str(), "w");
    if (out != nullptr) {
      PEM_write_X509(out, cert.get());
      std::fclose(out);
    }
  }
};

class FakeProvider {
 public:
  // With `certificate`, it speaks HTTPS and records the server name each client asked for.
  explicit FakeProvider(const TestCertificate* certificate = nullptr)
      : acceptor_(io_, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)) {
    port_ = acceptor_.local_endpoint().port();
    if (certificate != nullptr) {
      tls_.emplace(ssl::context::tls_server);
      SSL_CTX_use_certificate(tls_->native_handle(), certificate->cert.get());
      SSL_CTX_use_PrivateKey(tls_->native_handle(), certificate->key.get());
    }
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeProvider() {
    stopping_ = true;
    net::io_context poke_context;
    tcp::socket poke(poke_context);
    beast::error_code ignored;
    poke.connect(acceptor_.local_endpoint(), ignored);  // wakes the blocking accept
    thread_.join();
  }

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void script(Reply reply) {
    std::lock_guard lock(mutex_);
    replies_.push_back(std::move(reply));
  }
  std::vector<Recorded> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  std::vector<std::string> server_names() {
    std::lock_guard lock(mutex_);
    return server_names_;
  }
  int connections() const { return connections_; }
  int replies_finished() const { return finished_; }

 private:
  void serve() {
    for (;;) {
      tcp::socket socket(io_);
      beast::error_code ec;
      acceptor_.accept(socket, ec);
      if (stopping_) return;
      if (ec) continue;
      ++connections_;
      socket.set_option(tcp::no_delay(true), ec);
      if (tls_) {
        ssl::stream<tcp::socket&> stream(socket, *tls_);
        stream.handshake(ssl::stream_base::server, ec);
        if (!ec) {
          const char* name = SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name);
          std::lock_guard lock(mutex_);
          server_names_.push_back(name != nullptr ? name : "");
        }
        if (!ec) answer(stream);
      } else {
        answer(socket);
      }
      socket.shutdown(tcp::socket::shutdown_send, ec);
      socket.close(ec);
      ++finished_;
    }
  }

  template <class Stream>
  void answer(Stream& stream) {
    beast::error_code ec;
    beast::flat_buffer buffer;
    http::request<http::string_body> request;
    http::read(stream, buffer, request, ec);
    if (ec) return;  // e.g. a TLS ClientHello on the plain server
    Reply reply;
    {
      std::lock_guard lock(mutex_);
      Recorded recorded;
      recorded.method = std::string(request.method_string());
      recorded.target = std::string(request.target());
      for (const auto& field : request) {
        std::string name(field.name_string());
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        recorded.headers[name] = std::string(field.value());
      }
      recorded.body = request.body();
      requests_.push_back(std::move(recorded));
      if (!replies_.empty()) {
        reply = std::move(replies_.front());
        replies_.pop_front();
      } else {
        reply = {{"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 9\r\n\r\nno script"}};
      }
    }
    for (const Write& write : reply) {
      if (!write.bytes.empty()) net::write(stream, net::buffer(write.bytes), ec);
      if (ec) return;
      std::this_thread::sleep_for(write.pause_after);
    }
  }

  net::io_context io_;
  tcp::acceptor acceptor_;
  std::optional<ssl::context> tls_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::atomic<int> finished_{0};
  std::mutex mutex_;
  std::deque<Reply> replies_;
  std::vector<Recorded> requests_;
  std::vector<std::string> server_names_;
};

// Splits a body at this marker into sections, with a long pause between them.
constexpr std::string_view kPause = "<pause>";

std::string hex(std::size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  do {
    out.insert(out.begin(), digits[n % 16]);
    n /= 16;
  } while (n != 0);
  return out;
}

// A 200 text/event-stream answer in chunked encoding: chunks of `chunk_bytes`, written in pieces
// of `write_bytes`, so events, lines and the chunk framing itself all split across segments.
// `finished` = false leaves out the last chunk: the server then closes mid-body.
Reply sse_reply(const std::string& body, bool finished = true, std::size_t chunk_bytes = 41,
                std::size_t write_bytes = 17) {
  Reply reply;
  reply.push_back(
      {"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
       "Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n"});
  std::string_view rest = body;
  while (!rest.empty()) {
    const std::size_t marker = rest.find(kPause);
    const std::string_view section = rest.substr(0, marker);
    rest =
        marker == std::string_view::npos ? std::string_view() : rest.substr(marker + kPause.size());
    std::string wire;
    for (std::size_t at = 0; at < section.size(); at += chunk_bytes) {
      const std::string_view chunk = section.substr(at, chunk_bytes);
      wire += hex(chunk.size()) + "\r\n" + std::string(chunk) + "\r\n";
    }
    for (std::size_t at = 0; at < wire.size(); at += write_bytes) {
      reply.push_back({wire.substr(at, write_bytes)});
    }
    if (marker != std::string_view::npos) reply.back().pause_after = std::chrono::milliseconds(100);
  }
  if (finished) reply.push_back({"0\r\n\r\n"});
  return reply;
}

Reply json_reply(int status, const std::string& reason, const std::string& body,
                 const std::string& extra_headers = "") {
  return {{"HTTP/1.1 " + std::to_string(status) + " " + reason +
           "\r\nContent-Type: application/json\r\n" + extra_headers +
           "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body}};
}

// ---------------------------------------------------------------------------------------------
// Running adapter calls on a real AsioExecutor on the test thread.

struct Loop {
  AsioExecutor executor;
  std::unique_ptr<Scope> scope = std::make_unique<Scope>(executor);

  ~Loop() { scope.reset(); }

  bool run_until(const std::function<bool()>& done, Duration limit = seconds(20)) {
    bool expired = false;
    const TimerId deadline = executor.after(limit, [&] { expired = true; });
    // A tick, so conditions changed by the server's thread are rechecked.
    std::function<void()> tick;
    TimerId ticker = 0;
    tick = [&] { ticker = executor.after(milliseconds(5), tick); };
    tick();
    executor.run_until([&] { return expired || done(); });
    executor.cancel(deadline);
    executor.cancel(ticker);
    return done();
  }

  // Completes `request` on `llm`; `deltas` receives the text deltas in order.
  Result<Response> complete(Llm& llm, Request request, std::vector<std::string>* deltas,
                            const std::function<void()>& on_first_delta = {}) {
    std::optional<Result<Response>> out;
    TextSink sink = [deltas, on_first_delta](std::string_view delta) {
      if (deltas->empty() && on_first_delta) on_first_delta();
      deltas->emplace_back(delta);
    };
    scope->spawn(await_into(llm.complete(std::move(request), std::move(sink)), &out));
    EXPECT_TRUE(run_until([&] { return out.has_value(); })) << "the call never finished";
    if (!out) return fail(ErrorCode::internal, "test: no result");
    return std::move(*out);
  }
};

RetryPolicy fast_retries(int attempts = 4) {
  RetryPolicy policy;
  policy.attempts_max = attempts;
  policy.backoff = BackoffPolicy{milliseconds(1), milliseconds(5), 2.0, 0.5};
  return policy;
}

AnthropicConfig anthropic_config(const FakeProvider& server, int attempts = 4) {
  AnthropicConfig config;
  config.api_key = kKey;
  config.base_url = server.url();
  config.model = "claude-test";
  config.retry = fast_retries(attempts);
  config.timeouts = HttpTimeouts{seconds(10), seconds(5)};
  config.jitter_seed = 7;
  return config;
}

OpenAiConfig openai_config(const FakeProvider& server, int attempts = 4) {
  OpenAiConfig config;
  config.api_key = kKey;
  config.base_url = server.url() + "/v1";
  config.model = "gpt-test";
  config.retry = fast_retries(attempts);
  config.timeouts = HttpTimeouts{seconds(10), seconds(5)};
  config.jitter_seed = 7;
  return config;
}

Request hello_request() {
  Request request;
  request.messages.push_back({Message::Role::user, {Block::text_block("Say hello")}});
  return request;
}

std::string joined(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& part : parts) out += part;
  return out;
}

Block tool_call(std::string id, std::string name, Json input) {
  Block block;
  block.kind = Block::Kind::tool_call;
  block.tool_call_id = std::move(id);
  block.tool_name = std::move(name);
  block.input = std::move(input);
  return block;
}

Block tool_result(std::string id, std::string content, bool is_error) {
  Block block;
  block.kind = Block::Kind::tool_result;
  block.tool_call_id = std::move(id);
  block.text = std::move(content);
  block.is_error = is_error;
  return block;
}

// user → assistant (text + two tool calls) → tool (two results, one failed) → user.
Request conversation() {
  Request request;
  request.system = "Be brief.";
  request.tokens_max = 1000;
  request.messages.push_back({Message::Role::user, {Block::text_block("List files")}});
  request.messages.push_back(
      {Message::Role::assistant,
       {Block::text_block("Let me look."), tool_call("call_1", "ls", {{"path", "."}}),
        tool_call("call_2", "bash", {{"command", "false"}})}});
  request.messages.push_back(
      {Message::Role::tool,
       {tool_result("call_1", "a.txt\nb.txt", false), tool_result("call_2", "exit 1", true)}});
  request.messages.push_back({Message::Role::user, {Block::text_block("Also count them")}});
  request.tools.push_back({"ls",
                           "Lists a directory",
                           {{"type", "object"},
                            {"properties", {{"path", {{"type", "string"}}}}},
                            {"required", {"path"}}}});
  request.tools.push_back({"noop", "Does nothing", Json::object()});
  return request;
}

// ---------------------------------------------------------------------------------------------
// Anthropic: streams in the format of the Messages API streaming documentation.

std::string anthropic_event(const std::string& name, const Json& data) {
  return "event: " + name + "\ndata: " + data.dump() + "\n\n";
}

std::string anthropic_message_start(int input_tokens) {
  return anthropic_event("message_start",
                         {{"type", "message_start"},
                          {"message",
                           {{"id", "msg_01XFDUDYJgAACzvnptvVoYEL"},
                            {"type", "message"},
                            {"role", "assistant"},
                            {"content", Json::array()},
                            {"model", "claude-sonnet-4-5-20250929"},
                            {"stop_reason", nullptr},
                            {"stop_sequence", nullptr},
                            {"usage", {{"input_tokens", input_tokens}, {"output_tokens", 1}}}}}});
}

std::string anthropic_text_delta(int index, const std::string& text) {
  return anthropic_event("content_block_delta",
                         {{"type", "content_block_delta"},
                          {"index", index},
                          {"delta", {{"type", "text_delta"}, {"text", text}}}});
}

std::string anthropic_end(const std::string& stop_reason, int output_tokens) {
  return anthropic_event("message_delta",
                         {{"type", "message_delta"},
                          {"delta", {{"stop_reason", stop_reason}, {"stop_sequence", nullptr}}},
                          {"usage", {{"output_tokens", output_tokens}}}}) +
         anthropic_event("message_stop", {{"type", "message_stop"}});
}

std::string anthropic_text_stream(const std::vector<std::string>& deltas, bool pause = false) {
  std::string body = anthropic_message_start(25);
  body +=
      anthropic_event("content_block_start", {{"type", "content_block_start"},
                                              {"index", 0},
                                              {"content_block", {{"type", "text"}, {"text", ""}}}});
  body += "event: ping\ndata: {\"type\": \"ping\"}\n\n";
  for (std::size_t i = 0; i < deltas.size(); ++i) {
    body += anthropic_text_delta(0, deltas[i]);
    if (pause && i == 0) body += std::string(kPause);
  }
  body += anthropic_event("content_block_stop", {{"type", "content_block_stop"}, {"index", 0}});
  body += anthropic_end("end_turn", 15);
  return body;
}

TEST(AnthropicLlm, StreamsTextDeltasInOrderAsTheyArrive) {
  FakeProvider server;
  const std::vector<std::string> sent = {"Hello", ", wor", "ld", "! How can I help?"};
  server.script(sse_reply(anthropic_text_stream(sent, /*pause=*/true)));
  Loop loop;
  AnthropicLlm llm(loop.executor, anthropic_config(server));
  std::vector<std::string> deltas;
  int finished_at_first_delta = -1;
  auto response = loop.complete(llm, hello_request(), &deltas,
                                [&] { finished_at_first_delta = server.replies_finished(); });

  ASSERT_TRUE(response) << response.error().describe();
  EXPECT_EQ(deltas, sent);
  EXPECT_EQ(finished_at_first_delta, 0) << "the first delta waited for the whole stream";
  ASSERT_EQ(response->content.size(), 1u);
  EXPECT_EQ(response->content[0].kind, Block::Kind::text);
  EXPECT_EQ(response->content[0].text, "Hello, world! How can I help?");
  EXPECT_EQ(response->stop_reason, "end_turn");
  EXPECT_EQ(response->model, "claude-sonnet-4-5-20250929");
  EXPECT_EQ(response->input_tokens, 25);
  EXPECT_EQ(response->output_tokens, 15);
  EXPECT_EQ(server.connections(), 1);
}

TEST(AnthropicLlm, AssemblesAToolCallFromSplitJsonDeltas) {
  FakeProvider server;
  std::string body = anthropic_message_start(40);
  body +=
      anthropic_event("content_block_start", {{"type", "content_block_start"},
                                              {"index", 0},
                                              {"content_block", {{"type", "text"}, {"text", ""}}}});
  body += anthropic_text_delta(0, "Let me look.");
  body += anthropic_event("content_block_stop", {{"type", "content_block_stop"}, {"index", 0}});
  body += anthropic_event("content_block_start", {{"type", "content_block_start"},
                                                  {"index", 1},
                                                  {"content_block",
                                                   {{"type", "tool_use"},
                                                    {"id", "toolu_01T1x1fJ34qAmk2tNTrN7Up6"},
                                                    {"name", "ls"},
                                                    {"input", Json::object()}}}});
  for (const char* part : {"", "{\"path\": \"sr", "c\", \"dep", "th\": 2}"}) {
    body += anthropic_event("content_block_delta",
                            {{"type", "content_block_delta"},
                             {"index", 1},
                             {"delta", {{"type", "input_json_delta"}, {"partial_json", part}}}});
  }
  body += anthropic_event("content_block_stop", {{"type", "content_block_stop"}, {"index", 1}});
  body += anthropic_end("tool_use", 89);
  server.script(sse_reply(body));
  Loop loop;
  AnthropicLlm llm(loop.executor, anthropic_config(server));
  std::vector<std::string> deltas;
  auto response = loop.complete(llm, hello_request(), &deltas);

  ASSERT_TRUE(response) << response.error().describe();
  ASSERT_EQ(response->content.size(), 2u);
  EXPECT_EQ(response->content[0].text, "Let me look.");
  const Block& call = response->content[1];
  EXPECT_EQ(call.kind, Block::Kind::tool_call);
  EXPECT_EQ(call.tool_call_id, "toolu_01T1x1fJ34qAmk2tNTrN7Up6");
  EXPECT_EQ(call.tool_name, "ls");
  EXPECT_EQ(call.input, (Json{{"path", "src"}, {"depth", 2}}));
  EXPECT_EQ(response->stop_reason, "tool_use");
  EXPECT_EQ(response->input_tokens, 40);
  EXPECT_EQ(response->output_tokens, 89);
  EXPECT_EQ(joined(deltas), "Let me look.");
}

TEST(AnthropicLlm, SendsTheConversationInTheMessagesFormat) {
  FakeProvider server;
  server.script(sse_reply(anthropic_text_stream({"ok"})));
  Loop loop;
  AnthropicLlm llm(loop.executor, anthropic_config(server));
  std::vector<std::string> deltas;
  auto response = loop.complete(llm, conversation(), &deltas);
  ASSERT_TRUE(response) << response.error().describe();

  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  const Recorded& sent = requests[0];
  EXPECT_EQ(sent.method, "POST");
  EXPECT_EQ(sent.target, "/v1/messages");
  EXPECT_EQ(sent.headers.at("x-api-key"), kKey);
  EXPECT_EQ(sent.headers.at("anthropic-version"), "2023-06-01");
  EXPECT_EQ(sent.headers.at("content-type"), "application/json");
  EXPECT_EQ(sent.headers.count("authorization"), 0u);
  const Json expected = {
      {"model", "claude-test"},
      {"max_tokens", 1000},
      {"system", "Be brief."},
      {"stream", true},
      {"messages",
       {{{"role", "user"}, {"content", {{{"type", "text"}, {"text", "List files"}}}}},
        {{"role", "assistant"},
         {"content",
          {{{"type", "text"}, {"text", "Let me look."}},
           {{"type", "tool_use"}, {"id", "call_1"}, {"name", "ls"}, {"input", {{"path", "."}}}},
           {{"type", "tool_use"},
            {"id", "call_2"},
            {"name", "bash"},
            {"input", {{"command", "false"}}}}}}},
        // The tool results and the next user text are one user turn (turns must alternate).
        {{"role", "user"},
         {"content",
          {{{"type", "tool_result"},
            {"tool_use_id", "call_1"},
            {"content", "a.txt\nb.txt"},
            {"is_error", false}},
           {{"type", "tool_result"},
            {"tool_use_id", "call_2"},
            {"content", "exit 1"},
            {"is_error", true}},
           {{"type", "text"}, {"text", "Also count them"}}}}}}},
      {"tools",
       {{{"name", "ls"},
         {"description", "Lists a directory"},
         {"input_schema",
          {{"type", "object"},
           {"properties", {{"path", {{"type", "string"}}}}},
           {"required", {"path"}}}}},
        {{"name", "noop"},
         {"description", "Does nothing"},
         {"input_schema", {{"type", "object"}, {"properties", Json::object()}}}}}}};
  EXPECT_EQ(Json::parse(sent.body), expected) << sent.body;
}

TEST(AnthropicLlm, RetriesA429AfterItsRetryAfter) {
  FakeProvider server;
  server.script(json_reply(
      429, "Too Many Requests",
      R"({"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}})",
      "retry-after: 1\r\n"));
  server.script(sse_reply(anthropic_text_stream({"fine"})));
  Loop loop;
  AnthropicConfig config = anthropic_config(server);
  config.retry.retry_after_max = milliseconds(150);  // the header's 1 s, cut to keep tests fast
  AnthropicLlm llm(loop.executor, config);
  std::vector<std::string> deltas;
  const auto started = std::chrono::steady_clock::now();
  auto response = loop.complete(llm, hello_request(), &deltas);
  const auto waited = std::chrono::steady_clock::now() - started;

  ASSERT_TRUE(response) << response.error().describe();
  EXPECT_EQ(joined(deltas), "fine");
  EXPECT_EQ(server.connections(), 2);
  // The 1 ms backoff alone would retry at once: the wait is the server's.
  EXPECT_GE(waited, std::chrono::milliseconds(145));
}

TEST(AnthropicLlm, Retries500ThreeTimesThenSucceeds) {
  FakeProvider server;
  const std::string body =
      R"({"type":"error","error":{"type":"api_error","message":"Internal server error"}})";
  for (int i = 0; i < 3; ++i) server.script(json_reply(500, "Internal Server Error", body));
  server.script(sse_reply(anthropic_text_stream({"at last"})));
  Loop loop;
  AnthropicLlm llm(loop.executor, anthropic_config(server, 4));
  std::vector<std::string> deltas;
  auto response = loop.complete(llm, hello_request(), &deltas);

  ASSERT_TRUE(response) << response.error().describe();
  EXPECT_EQ(response->content[0].text, "at last");
  EXPECT_EQ(server.connections(), 4);
}

TEST(AnthropicLlm, GivesUpWhenAttemptsRunOut) {
  FakeProvider server;
  const std::string body =
      R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})";
  for (int i = 0; i < 3; ++i) server.script(json_reply(529, "Overloaded", body));
  Loop loop;
  AnthropicLlm llm(loop.executor, anthropic_config(server, 3));
  std::vector<std::string> deltas;
  auto response = loop.complete(llm, hello_request(), &deltas);

  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ErrorCode::unavailable);
  EXPECT_NE(response.error().message.find("HTTP 529"), std::string::npos);
  EXPECT_NE(response.error().message.find("Overloaded"), std::string::npos);
  EXPECT_NE(response.error().message.find("3 attempts"), std::string::npos);
  EXPECT_EQ(server.connections(), 3);
}

TEST(AnthropicLlm, BadRequestIsInvalidArgumentWithTheProviderMessageAndNoRetry) {
  FakeProvider server;
  server.script(json_reply(
      400, "Bad Request",
      R"({"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: Field required"}})"));
  Loop loop;
  AnthropicLlm llm(loop.executor, anthropic_config(server));
  std::vector<std::string> deltas;
  auto response = loop.complete(llm, hello_request(), &deltas);

  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(response.error().message.find("max_tokens: Field required"), std::string::npos)
      << response.error().message;
  EXPECT_EQ(server.connections(), 1);
}

TEST(AnthropicLlm, RefusedKeyIsUnauthenticatedAndNeverQuoted) {
  FakeProvider server;
  // A provider that echoes the key back must not get it into our message.
  server.script(json_reply(
      401, "Unauthorized",
      std::string(
          R"({"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key )") +
          kKey + "\"}}"));
  Loop loop;
  AnthropicLlm llm(loop.executor, anthropic_config(server));
  std::vector<std::string> deltas;
  auto response = loop.complete(llm, hello_request(), &deltas);

  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ErrorCode::unauthenticated);
  EXPECT_NE(response.error().message.find("API key was refused"), std::string::npos);
  EXPECT_EQ(response.error().message.find(kKey), std::string::npos);
  EXPECT_EQ(response.error().message.find("SECRET"), std::string::npos);
  EXPECT_EQ(server.connections(), 1);
}

TEST(AnthropicLlm, StreamCutAfterTextIsUnavailableAndNotRetried) {
  FakeProvider server;
  std::string body = anthropic_message_start(10);
  body +=
      anthropic_event("content_block_start", {{"type", "content_block_start"},
                                              {"index", 0},
                                              {"content_block", {{"type", "text"}, {"text", ""}}}});
  body += anthropic_text_delta(0, "The answer is");
  server.script(sse_reply(body, /*finished=*/false));
  server.script(sse_reply(anthropic_text_stream({"never asked for"})));
  Loop loop;
  AnthropicLlm llm(loop.executor, anthropic_config(server));
  std::vector<std::string> deltas;
  auto response = loop.complete(llm, hello_request(), &deltas);

  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ErrorCode::unavailable);
  EXPECT_EQ(joined(deltas), "The answer is");
  EXPECT_EQ(server.connections(), 1);
}

TEST(AnthropicLlm, StreamCutBeforeAnyTextIsRetried) {
  FakeProvider server;
  server.script(sse_reply(anthropic_message_start(10), /*finished=*/false));
  server.script(sse_reply(anthropic_text_stream({"second try"})));
  Loop loop;
  AnthropicLlm llm(loop.executor, anthropic_config(server));
  std::vector<std::string> deltas;
  auto response = loop.complete(llm, hello_request(), &deltas);

  ASSERT_TRUE(response) << response.error().describe();
  EXPECT_EQ(joined(deltas), "second try");
  EXPECT_EQ(server.connections(), 2);
}

TEST(AnthropicLlm, OverloadedErrorEventBeforeTextIsRetried) {
  FakeProvider server;
  server.script(sse_reply(
      anthropic_message_start(10) +
      "event: error\ndata: {\"type\": \"error\", \"error\": {\"type\": \"overloaded_error\", "
      "\"message\": \"Overloaded\"}}\n\n"));
  server.script(sse_reply(anthropic_text_stream({"recovered"})));
  Loop loop;
  AnthropicLlm llm(loop.executor, anthropic_config(server));
  std::vector<std::string> deltas;
  auto response = loop.complete(llm, hello_request(), &deltas);

  ASSERT_TRUE(response) << response.error().describe();
  EXPECT_EQ(joined(deltas), "recovered");
  EXPECT_EQ(server.connections(), 2);
}

TEST(AnthropicLlm, MalformedEventJsonFailsWithoutCrashing) {
  FakeProvider server;
  server.script(sse_reply(
      anthropic_message_start(10) +
      "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\n\n" +
      anthropic_end("end_turn", 3)));
  Loop loop;
  AnthropicLlm llm(loop.executor, anthropic_config(server));
  std::vector<std::string> deltas;
  auto response = loop.complete(llm, hello_request(), &deltas);

  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ErrorCode::unavailable);
  EXPECT_NE(response.error().message.find("malformed JSON"), std::string::npos)
      << response.error().message;
  EXPECT_EQ(server.connections(), 1);
}

// Issue 15: an event nested 100,000 deep is refused as malformed, not parsed and then copied.
TEST(AnthropicLlm, AnEventNestedTooDeepFailsWithoutCrashing) {
  FakeProvider server;
  const std::string deep = std::string(100'000, '[') + std::string(100'000, ']');
  server.script(sse_reply(anthropic_message_start(10) +
                              "event: ping\ndata: {\"type\":\"ping\",\"x\":" + deep + "}\n\n" +
                              anthropic_end("end_turn", 3),
                          /*finished=*/true, /*chunk_bytes=*/1 << 16, /*write_bytes=*/1 << 16));
  Loop loop;
  AnthropicLlm llm(loop.executor, anthropic_config(server));
  std::vector<std::string> deltas;
  auto response = loop.complete(llm, hello_request(), &deltas);

  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ErrorCode::unavailable);
  EXPECT_NE(response.error().message.find("malformed JSON in a 'ping' event"), std::string::npos)
      << response.error().message.substr(0, 200);
  EXPECT_EQ(server.connections(), 1);
}

TEST(AnthropicLlm, SilenceLongerThanTheIdleTimeoutIsATimeout) {
  FakeProvider server;
  Reply stalled = sse_reply(anthropic_message_start(10), /*finished=*/false);
  stalled.back().pause_after = std::chrono::milliseconds(200);
  server.script(std::move(stalled));
  Loop loop;
  AnthropicConfig config = anthropic_config(server, 1);
  config.timeouts.idle = milliseconds(50);
  AnthropicLlm llm(loop.executor, config);
  std::vector<std::string> deltas;
  auto response = loop.complete(llm, hello_request(), &deltas);

  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ErrorCode::timeout) << response.error().describe();
  EXPECT_NE(response.error().message.find("no data for"), std::string::npos);
}

TEST(AnthropicLlm, AStreamThatOutlastsTheTotalBudgetIsATimeout) {
  FakeProvider server;
  Reply slow = sse_reply(anthropic_message_start(10), /*finished=*/false);
  slow.back().pause_after = std::chrono::milliseconds(200);
  server.script(std::move(slow));
  Loop loop;
  AnthropicConfig config = anthropic_config(server, 1);
  config.timeouts = HttpTimeouts{milliseconds(60), seconds(5)};
  AnthropicLlm llm(loop.executor, config);
  std::vector<std::string> deltas;
  auto response = loop.complete(llm, hello_request(), &deltas);

  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ErrorCode::timeout) << response.error().describe();
  EXPECT_NE(response.error().message.find("no complete answer within"), std::string::npos);
}

TEST(AnthropicLlm, CancellingTheCallMidStreamClosesItAndDeliversNothingMore) {
  FakeProvider server;
  server.script(sse_reply(anthropic_text_stream({"first", "second", "third"}, /*pause=*/true)));
  Loop loop;
  AnthropicLlm llm(loop.executor, anthropic_config(server));
  std::vector<std::string> deltas;
  std::optional<Result<Response>> out;
  TextSink sink = [&deltas](std::string_view delta) { deltas.emplace_back(delta); };
  loop.scope->spawn(await_into(llm.complete(hello_request(), std::move(sink)), &out));
  ASSERT_TRUE(loop.run_until([&] { return !deltas.empty(); }));
  loop.scope.reset();  // destroys the waiting frames, as a stopping component does
  loop.run_until([&] { return server.replies_finished() == 1; }, seconds(5));
  loop.run_until([] { return false; }, milliseconds(20));
  EXPECT_EQ(deltas, (std::vector<std::string>{"first"}));
  EXPECT_FALSE(out.has_value());
}

// ---------------------------------------------------------------------------------------------
// OpenAI: chunks in the format of the Chat Completions streaming documentation.

std::string openai_chunk(const Json& delta, const Json& finish_reason = nullptr) {
  const Json chunk = {
      {"id", "chatcmpl-123"},
      {"object", "chat.completion.chunk"},
      {"created", 1694268190},
      {"model", "gpt-4o-2024-08-06"},
      {"system_fingerprint", "fp_44709d6fcb"},
      {"choices",
       {{{"index", 0}, {"delta", delta}, {"logprobs", nullptr}, {"finish_reason", finish_reason}}}},
      {"usage", nullptr}};
  return "data: " + chunk.dump() + "\n\n";
}

std::string openai_usage_and_done(int prompt_tokens, int completion_tokens) {
  const Json chunk = {{"id", "chatcmpl-123"},
                      {"object", "chat.completion.chunk"},
                      {"created", 1694268190},
                      {"model", "gpt-4o-2024-08-06"},
                      {"choices", Json::array()},
                      {"usage",
                       {{"prompt_tokens", prompt_tokens},
                        {"completion_tokens", completion_tokens},
                        {"total_tokens", prompt_tokens + completion_tokens}}}};
  return "data: " + chunk.dump() + "\n\ndata: [DONE]\n\n";
}

std::string openai_text_stream(const std::vector<std::string>& deltas,
                               const std::string& finish_reason = "stop", bool pause = false) {
  std::string body = openai_chunk({{"role", "assistant"}, {"content", ""}, {"refusal", nullptr}});
  for (std::size_t i = 0; i < deltas.size(); ++i) {
    body += openai_chunk({{"content", deltas[i]}});
    if (pause && i == 0) body += std::string(kPause);
  }
  body += openai_chunk(Json::object(), finish_reason);
  body += openai_usage_and_done(12, 7);
  return body;
}

TEST(OpenAiLlm, StreamsTextDeltasInOrderAsTheyArrive) {
  FakeProvider server;
  const std::vector<std::string> sent = {"Hel", "lo", " there", "!"};
  server.script(sse_reply(openai_text_stream(sent, "stop", /*pause=*/true)));
  Loop loop;
  OpenAiLlm llm(loop.executor, openai_config(server));
  std::vector<std::string> deltas;
  int finished_at_first_delta = -1;
  auto response = loop.complete(llm, hello_request(), &deltas,
                                [&] { finished_at_first_delta = server.replies_finished(); });

  ASSERT_TRUE(response) << response.error().describe();
  EXPECT_EQ(deltas, sent);
  EXPECT_EQ(finished_at_first_delta, 0) << "the first delta waited for the whole stream";
  ASSERT_EQ(response->content.size(), 1u);
  EXPECT_EQ(response->content[0].text, "Hello there!");
  EXPECT_EQ(response->stop_reason, "end_turn");
  EXPECT_EQ(response->model, "gpt-4o-2024-08-06");
  EXPECT_EQ(response->input_tokens, 12);
  EXPECT_EQ(response->output_tokens, 7);
}

TEST(OpenAiLlm, LengthFinishIsMaxTokens) {
  FakeProvider server;
  server.script(sse_reply(openai_text_stream({"Once upon"}, "length")));
  Loop loop;
  OpenAiLlm llm(loop.executor, openai_config(server));
  std::vector<std::string> deltas;
  auto response = loop.complete(llm, hello_request(), &deltas);
  ASSERT_TRUE(response) << response.error().describe();
  EXPECT_EQ(response->stop_reason, "max_tokens");
}

TEST(OpenAiLlm, AssemblesToolCallsFromArgumentFragmentsByIndex) {
  FakeProvider server;
  std::string body = openai_chunk({{"role", "assistant"}, {"content", nullptr}});
  body += openai_chunk({{"tool_calls",
                         {{{"index", 0},
                           {"id", "call_DdmO9pD3xa9XTPNJ32zg2hcA"},
                           {"type", "function"},
                           {"function", {{"name", "ls"}, {"arguments", ""}}}}}}});
  for (const char* part : {"{\"pa", "th\": \"s", "rc\"}"}) {
    body += openai_chunk({{"tool_calls", {{{"index", 0}, {"function", {{"arguments", part}}}}}}});
  }
  body += openai_chunk({{"tool_calls",
                         {{{"index", 1},
                           {"id", "call_2"},
                           {"type", "function"},
                           {"function", {{"name", "bash"}, {"arguments", "{\"command\": "}}}}}}});
  // The second call's arguments never become valid JSON: it gets {} and the rest still works.
  body += openai_chunk({{"tool_calls", {{{"index", 1}, {"function", {{"arguments", "\"ls"}}}}}}});
  body += openai_chunk(Json::object(), "tool_calls");
  body += openai_usage_and_done(80, 30);
  server.script(sse_reply(body));
  Loop loop;
  OpenAiLlm llm(loop.executor, openai_config(server));
  std::vector<std::string> deltas;
  auto response = loop.complete(llm, hello_request(), &deltas);

  ASSERT_TRUE(response) << response.error().describe();
  EXPECT_TRUE(deltas.empty());
  ASSERT_EQ(response->content.size(), 2u);
  EXPECT_EQ(response->content[0].kind, Block::Kind::tool_call);
  EXPECT_EQ(response->content[0].tool_call_id, "call_DdmO9pD3xa9XTPNJ32zg2hcA");
  EXPECT_EQ(response->content[0].tool_name, "ls");
  EXPECT_EQ(response->content[0].input, (Json{{"path", "src"}}));
  EXPECT_EQ(response->content[1].tool_call_id, "call_2");
  EXPECT_EQ(response->content[1].tool_name, "bash");
  EXPECT_EQ(response->content[1].input, Json::object());
  EXPECT_EQ(response->stop_reason, "tool_use");
  EXPECT_EQ(response->input_tokens, 80);
  EXPECT_EQ(response->output_tokens, 30);
}

// Issue 15: tool-call arguments nested 100,000 deep are treated like any invalid arguments.
TEST(OpenAiLlm, ToolCallArgumentsNestedTooDeepBecomeAnEmptyInput) {
  FakeProvider server;
  const std::string deep = std::string(100'000, '[') + std::string(100'000, ']');
  std::string body = openai_chunk({{"role", "assistant"}, {"content", nullptr}});
  body +=
      openai_chunk({{"tool_calls",
                     {{{"index", 0},
                       {"id", "call_1"},
                       {"type", "function"},
                       {"function", {{"name", "bash"}, {"arguments", "{\"x\":" + deep + "}"}}}}}}});
  body += openai_chunk(Json::object(), "tool_calls");
  body += openai_usage_and_done(5, 5);
  server.script(
      sse_reply(body, /*finished=*/true, /*chunk_bytes=*/1 << 16, /*write_bytes=*/1 << 16));
  Loop loop;
  OpenAiLlm llm(loop.executor, openai_config(server));
  std::vector<std::string> deltas;
  auto response = loop.complete(llm, hello_request(), &deltas);

  ASSERT_TRUE(response) << response.error().describe();
  ASSERT_EQ(response->content.size(), 1u);
  EXPECT_EQ(response->content[0].kind, Block::Kind::tool_call);
  EXPECT_EQ(response->content[0].tool_name, "bash");
  EXPECT_EQ(response->content[0].input, Json::object());
  EXPECT_EQ(response->stop_reason, "tool_use");
}

TEST(OpenAiLlm, SendsTheConversationInTheChatCompletionsFormat) {
  FakeProvider server;
  server.script(sse_reply(openai_text_stream({"ok"})));
  Loop loop;
  OpenAiLlm llm(loop.executor, openai_config(server));
  std::vector<std::string> deltas;
  auto response = loop.complete(llm, conversation(), &deltas);
  ASSERT_TRUE(response) << response.error().describe();

  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  const Recorded& sent = requests[0];
  EXPECT_EQ(sent.method, "POST");
  EXPECT_EQ(sent.target, "/v1/chat/completions");
  EXPECT_EQ(sent.headers.at("authorization"), std::string("Bearer ") + kKey);
  EXPECT_EQ(sent.headers.at("content-type"), "application/json");
  EXPECT_EQ(sent.headers.count("x-api-key"), 0u);
  const Json expected = {
      {"model", "gpt-test"},
      {"max_tokens", 1000},
      {"stream", true},
      {"stream_options", {{"include_usage", true}}},
      {"messages",
       {{{"role", "system"}, {"content", "Be brief."}},
        {{"role", "user"}, {"content", "List files"}},
        {{"role", "assistant"},
         {"content", "Let me look."},
         {"tool_calls",
          {{{"id", "call_1"},
            {"type", "function"},
            {"function", {{"name", "ls"}, {"arguments", R"({"path":"."})"}}}},
           {{"id", "call_2"},
            {"type", "function"},
            {"function", {{"name", "bash"}, {"arguments", R"({"command":"false"})"}}}}}}},
        {{"role", "tool"}, {"tool_call_id", "call_1"}, {"content", "a.txt\nb.txt"}},
        {{"role", "tool"}, {"tool_call_id", "call_2"}, {"content", "Error: exit 1"}},
        {{"role", "user"}, {"content", "Also count them"}}}},
      {"tools",
       {{{"type", "function"},
         {"function",
          {{"name", "ls"},
           {"description", "Lists a directory"},
           {"parameters",
            {{"type", "object"},
             {"properties", {{"path", {{"type", "string"}}}}},
             {"required", {"path"}}}}}}},
        {{"type", "function"},
         {"function",
          {{"name", "noop"},
           {"description", "Does nothing"},
           {"parameters", {{"type", "object"}, {"properties", Json::object()}}}}}}}}};
  EXPECT_EQ(Json::parse(sent.body), expected) << sent.body;
}

TEST(OpenAiLlm, AssistantToolCallsWithoutTextSendNullContent) {
  Request request;
  request.messages.push_back({Message::Role::assistant, {tool_call("c", "ls", Json::object())}});
  const Json body = openai_request_body(request, "m");
  EXPECT_TRUE(body["messages"][0]["content"].is_null());
  EXPECT_EQ(body["messages"][0]["tool_calls"][0]["function"]["arguments"], "{}");
}

TEST(OpenAiLlm, Retries429HonoringRetryAfterMs) {
  FakeProvider server;
  server.script(json_reply(
      429, "Too Many Requests",
      R"({"error":{"message":"Rate limit reached for gpt-4o","type":"requests","param":null,"code":"rate_limit_exceeded"}})",
      "retry-after-ms: 120\r\nretry-after: 1\r\n"));
  server.script(sse_reply(openai_text_stream({"fine"})));
  Loop loop;
  OpenAiLlm llm(loop.executor, openai_config(server));
  std::vector<std::string> deltas;
  const auto started = std::chrono::steady_clock::now();
  auto response = loop.complete(llm, hello_request(), &deltas);
  const auto waited = std::chrono::steady_clock::now() - started;

  ASSERT_TRUE(response) << response.error().describe();
  EXPECT_EQ(joined(deltas), "fine");
  EXPECT_EQ(server.connections(), 2);
  EXPECT_GE(waited, std::chrono::milliseconds(115));
  EXPECT_LT(waited, std::chrono::milliseconds(900));  // the precise header wins over seconds
}

TEST(OpenAiLlm, Retries500ThreeTimesThenSucceeds) {
  FakeProvider server;
  const std::string body =
      R"({"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}})";
  for (int i = 0; i < 3; ++i) server.script(json_reply(500, "Internal Server Error", body));
  server.script(sse_reply(openai_text_stream({"at last"})));
  Loop loop;
  OpenAiLlm llm(loop.executor, openai_config(server, 4));
  std::vector<std::string> deltas;
  auto response = loop.complete(llm, hello_request(), &deltas);

  ASSERT_TRUE(response) << response.error().describe();
  EXPECT_EQ(response->content[0].text, "at last");
  EXPECT_EQ(server.connections(), 4);
}

TEST(OpenAiLlm, BadRequestIsInvalidArgumentWithTheProviderMessageAndNoRetry) {
  FakeProvider server;
  server.script(json_reply(
      400, "Bad Request",
      R"({"error":{"message":"Invalid 'messages[1].tool_call_id': expected a string.","type":"invalid_request_error","param":"messages[1].tool_call_id","code":null}})"));
  Loop loop;
  OpenAiLlm llm(loop.executor, openai_config(server));
  std::vector<std::string> deltas;
  auto response = loop.complete(llm, hello_request(), &deltas);

  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(response.error().message.find("Invalid 'messages[1].tool_call_id'"), std::string::npos)
      << response.error().message;
  EXPECT_EQ(server.connections(), 1);
}

TEST(OpenAiLlm, RefusedKeyIsUnauthenticatedAndNeverQuoted) {
  FakeProvider server;
  server.script(json_reply(
      401, "Unauthorized",
      std::string(R"({"error":{"message":"Incorrect API key provided: )") + kKey +
          R"(. You can find your API key at https://platform.openai.com/account/api-keys.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}})"));
  Loop loop;
  OpenAiLlm llm(loop.executor, openai_config(server));
  std::vector<std::string> deltas;
  auto response = loop.complete(llm, hello_request(), &deltas);

  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ErrorCode::unauthenticated);
  EXPECT_NE(response.error().message.find("API key was refused"), std::string::npos);
  EXPECT_EQ(response.error().message.find(kKey), std::string::npos);
  EXPECT_EQ(response.error().message.find("SECRET"), std::string::npos);
  EXPECT_EQ(server.connections(), 1);
}

TEST(OpenAiLlm, StreamCutAfterTextIsUnavailableAndNotRetried) {
  FakeProvider server;
  server.script(sse_reply(openai_chunk({{"role", "assistant"}, {"content", ""}}) +
                              openai_chunk({{"content", "The answer is"}}),
                          /*finished=*/false));
  server.script(sse_reply(openai_text_stream({"never asked for"})));
  Loop loop;
  OpenAiLlm llm(loop.executor, openai_config(server));
  std::vector<std::string> deltas;
  auto response = loop.complete(llm, hello_request(), &deltas);

  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ErrorCode::unavailable);
  EXPECT_EQ(joined(deltas), "The answer is");
  EXPECT_EQ(server.connections(), 1);
}

TEST(OpenAiLlm, MalformedChunkJsonFailsWithoutCrashing) {
  FakeProvider server;
  server.script(
      sse_reply(openai_chunk({{"role", "assistant"}, {"content", ""}}) +
                "data: {\"id\":\"chatcmpl-123\",\"choices\":[{\"delta\":{\"content\":\"x\"\n\n" +
                openai_usage_and_done(1, 1)));
  Loop loop;
  OpenAiLlm llm(loop.executor, openai_config(server));
  std::vector<std::string> deltas;
  auto response = loop.complete(llm, hello_request(), &deltas);

  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ErrorCode::unavailable);
  EXPECT_NE(response.error().message.find("malformed JSON"), std::string::npos)
      << response.error().message;
  EXPECT_EQ(server.connections(), 1);
}

TEST(OpenAiLlm, CrLfLineEndingsAndCommentsAreUnderstood) {
  FakeProvider server;
  std::string body = ": keep-alive\r\n\r\n" + openai_text_stream({"a", "b"});
  std::string crlf;
  for (char c : body) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  server.script(sse_reply(crlf));
  Loop loop;
  OpenAiLlm llm(loop.executor, openai_config(server));
  std::vector<std::string> deltas;
  auto response = loop.complete(llm, hello_request(), &deltas);
  ASSERT_TRUE(response) << response.error().describe();
  EXPECT_EQ(deltas, (std::vector<std::string>{"a", "b"}));
}

// ---------------------------------------------------------------------------------------------
// The HTTP client, URLs and settings.

TEST(LlmHttp, HttpsToAPlainServerFailsTheTlsHandshake) {
  FakeProvider server;
  Loop loop;
  AnthropicConfig config = anthropic_config(server, 1);
  config.base_url = "https://127.0.0.1:" + std::to_string(server.port());
  AnthropicLlm llm(loop.executor, config);
  std::vector<std::string> deltas;
  auto response = loop.complete(llm, hello_request(), &deltas);

  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ErrorCode::unavailable);
  EXPECT_NE(response.error().message.find("TLS handshake"), std::string::npos)
      << response.error().message;
}

TEST(LlmHttp, HttpsVerifiesTheCertificateAndSendsTheServerName) {
  TestCertificate certificate;
  FakeProvider server(&certificate);
  server.script(sse_reply(anthropic_text_stream({"over TLS"})));
  Loop loop;
  AnthropicConfig config = anthropic_config(server, 1);
  config.base_url = "https://localhost:" + std::to_string(server.port());
  config.ca_file = certificate.cert_file;
  AnthropicLlm llm(loop.executor, config);
  std::vector<std::string> deltas;
  auto response = loop.complete(llm, hello_request(), &deltas);

  ASSERT_TRUE(response) << response.error().describe();
  EXPECT_EQ(joined(deltas), "over TLS");
  EXPECT_EQ(server.server_names(), (std::vector<std::string>{"localhost"}));
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].headers.at("host"), "localhost:" + std::to_string(server.port()));
}

TEST(LlmHttp, HttpsRefusesACertificateForAnotherName) {
  TestCertificate certificate;
  FakeProvider server(&certificate);
  Loop loop;
  AnthropicConfig config = anthropic_config(server, 1);
  config.base_url = "https://127.0.0.1:" + std::to_string(server.port());  // cert: localhost only
  config.ca_file = certificate.cert_file;
  AnthropicLlm llm(loop.executor, config);
  std::vector<std::string> deltas;
  auto response = loop.complete(llm, hello_request(), &deltas);

  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ErrorCode::unavailable);
  EXPECT_NE(response.error().message.find("certificate verify failed"), std::string::npos)
      << response.error().message;
  EXPECT_TRUE(server.requests().empty());
}

TEST(LlmHttp, HttpsRefusesACertificateOutsideTheSystemTrustStore) {
  TestCertificate certificate;
  FakeProvider server(&certificate);
  Loop loop;
  AnthropicConfig config = anthropic_config(server, 1);
  config.base_url = "https://localhost:" + std::to_string(server.port());
  AnthropicLlm llm(loop.executor, config);
  std::vector<std::string> deltas;
  auto response = loop.complete(llm, hello_request(), &deltas);

  ASSERT_FALSE(response);
  EXPECT_NE(response.error().message.find("certificate verify failed"), std::string::npos)
      << response.error().message;
  EXPECT_TRUE(server.requests().empty());
}

TEST(LlmHttp, ConnectionRefusedIsRetriedThenUnavailable) {
  int port = 0;
  {
    FakeProvider gone;
    port = gone.port();
  }
  Loop loop;
  OpenAiConfig config;
  config.api_key = kKey;
  config.base_url = "http://127.0.0.1:" + std::to_string(port) + "/v1";
  config.retry = fast_retries(2);
  config.jitter_seed = 1;
  OpenAiLlm llm(loop.executor, config);
  std::vector<std::string> deltas;
  auto response = loop.complete(llm, hello_request(), &deltas);

  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ErrorCode::unavailable);
  EXPECT_NE(response.error().message.find("cannot connect"), std::string::npos)
      << response.error().message;
  EXPECT_NE(response.error().message.find("2 attempts"), std::string::npos);
}

TEST(LlmHttp, ParsesUrls) {
  auto url = parse_http_url("https://api.openai.com/v1/chat/completions");
  ASSERT_TRUE(url);
  EXPECT_TRUE(url->tls);
  EXPECT_EQ(url->host, "api.openai.com");
  EXPECT_EQ(url->port, "443");
  EXPECT_EQ(url->path, "/v1/chat/completions");

  url = parse_http_url("HTTP://[::1]:8080/");
  ASSERT_TRUE(url);
  EXPECT_FALSE(url->tls);
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, "8080");
  EXPECT_EQ(url->path, "");

  EXPECT_FALSE(parse_http_url("ftp://x"));
  EXPECT_FALSE(parse_http_url("api.openai.com"));
  EXPECT_FALSE(parse_http_url("http://:80/"));
  EXPECT_FALSE(parse_http_url("http://h:99999/"));
  EXPECT_FALSE(parse_http_url("http://user:pw@h/"));
  EXPECT_EQ(join_url("https://h/v1/", "/chat/completions"), "https://h/v1/chat/completions");
}

TEST(LlmHttp, ReadsRetryAfterAndRedactsSecrets) {
  EXPECT_EQ(retry_after({{"retry-after", "2"}}), Duration(seconds(2)));
  EXPECT_EQ(retry_after({{"retry-after", "0.5"}}), Duration(milliseconds(500)));
  EXPECT_EQ(retry_after({{"retry-after-ms", "150"}, {"retry-after", "9"}}),
            Duration(milliseconds(150)));
  EXPECT_EQ(retry_after({{"retry-after", "Wed, 21 Oct 2015 07:28:00 GMT"}}), std::nullopt);
  EXPECT_EQ(retry_after({}), std::nullopt);
  EXPECT_EQ(redact("key k1 and k1", "k1"), "key [redacted] and [redacted]");
  EXPECT_EQ(redact("nothing", ""), "nothing");
}

TEST(LlmConfig, FillsKeysAndUrlsFromTheEnvironmentWithFlagsWinning) {
  const std::map<std::string, std::string> vars = {{"OPENAI_API_KEY", "env-key"},
                                                   {"OPENAI_BASE_URL", "http://local:1/v1"},
                                                   {"ANTHROPIC_API_KEY", "ant-key"}};
  const EnvLookup env = [&](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
  LlmSettings settings;
  settings.provider = "openai";
  auto filled = settings_from_env(settings, env);
  ASSERT_TRUE(filled) << filled.error().describe();
  EXPECT_EQ(filled->api_key, "env-key");
  EXPECT_EQ(filled->base_url, "http://local:1/v1");

  settings.api_key = "flag-key";
  settings.base_url = "http://flag:2/v1";
  filled = settings_from_env(settings, env);
  ASSERT_TRUE(filled);
  EXPECT_EQ(filled->api_key, "flag-key");
  EXPECT_EQ(filled->base_url, "http://flag:2/v1");

  settings = LlmSettings();
  settings.provider = "anthropic";
  filled = settings_from_env(settings, env);
  ASSERT_TRUE(filled);
  EXPECT_EQ(filled->api_key, "ant-key");
  EXPECT_EQ(filled->base_url, "");  // the adapter's default

  const EnvLookup empty = [](std::string_view) -> std::optional<std::string> {
    return std::nullopt;
  };
  settings.provider = "openai";
  filled = settings_from_env(settings, empty);
  ASSERT_FALSE(filled);
  EXPECT_EQ(filled.error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(filled.error().message, "provider openai needs OPENAI_API_KEY or --llm-api-key");
  settings.provider = "anthropic";
  filled = settings_from_env(settings, empty);
  ASSERT_FALSE(filled);
  EXPECT_EQ(filled.error().message, "provider anthropic needs ANTHROPIC_API_KEY or --llm-api-key");
  settings.provider = "gemini";
  filled = settings_from_env(settings, empty);
  ASSERT_FALSE(filled);
  EXPECT_NE(filled.error().message.find("unknown LLM provider 'gemini'"), std::string::npos);
}

TEST(LlmConfig, MakesTheNamedAdapterOrSaysWhatIsWrong) {
  AsioExecutor executor;
  LlmSettings settings;
  settings.provider = "anthropic";
  settings.api_key = "k";
  auto made = make_llm(executor, settings);
  ASSERT_TRUE(made) << made.error().describe();
  EXPECT_NE(dynamic_cast<AnthropicLlm*>(made->get()), nullptr);

  settings.provider = "openai";
  made = make_llm(executor, settings);
  ASSERT_TRUE(made) << made.error().describe();
  EXPECT_NE(dynamic_cast<OpenAiLlm*>(made->get()), nullptr);

  settings.base_url = "ftp://nope";
  made = make_llm(executor, settings);
  ASSERT_FALSE(made);
  EXPECT_EQ(made.error().code, ErrorCode::invalid_argument);

  settings.base_url.clear();
  settings.api_key.clear();
  made = make_llm(executor, settings);
  ASSERT_FALSE(made);
  EXPECT_EQ(made.error().message, "provider openai needs OPENAI_API_KEY or --llm-api-key");

  settings.api_key = "k";
  settings.attempts_max = 0;
  EXPECT_FALSE(make_llm(executor, settings));
}

// ---------------------------------------------------------------------------------------------
// The SSE parser on its own.

std::vector<SseEvent> parse_all(std::string_view text) {
  SseParser parser;
  std::vector<SseEvent> out;
  EXPECT_TRUE(parser.feed(text, out));
  return out;
}

// Feeds `text` one byte at a time: every split point at once.
std::vector<SseEvent> parse_bytewise(std::string_view text) {
  SseParser parser;
  std::vector<SseEvent> out;
  for (char c : text) EXPECT_TRUE(parser.feed(std::string_view(&c, 1), out));
  return out;
}

TEST(SseParser, ParsesNamedEventsAndMultiLineData) {
  const auto events = parse_all(
      "event: message_start\ndata: {\"a\":1}\n\n"
      "data: first\ndata: second\ndata:third\n\n"
      "event:ping\ndata\n\n");
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].event, "message_start");
  EXPECT_EQ(events[0].data, "{\"a\":1}");
  EXPECT_EQ(events[1].event, "message");
  EXPECT_EQ(events[1].data, "first\nsecond\nthird");
  EXPECT_EQ(events[2].event, "ping");
  EXPECT_EQ(events[2].data, "");
}

TEST(SseParser, EveryLineEndingAndEverySplitGiveTheSameEvents) {
  const std::string lf = "event: a\ndata: 1\ndata: 2\n\n: comment\n\ndata: x y\n\n";
  std::string crlf, cr;
  for (char c : lf) {
    crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
    cr += c == '\n' ? '\r' : c;
  }
  const auto expected = parse_all(lf);
  ASSERT_EQ(expected.size(), 2u);
  for (const std::string& text : {lf, crlf, cr}) {
    for (const auto& events : {parse_all(text), parse_bytewise(text)}) {
      ASSERT_EQ(events.size(), expected.size());
      for (std::size_t i = 0; i < events.size(); ++i) {
        EXPECT_EQ(events[i].event, expected[i].event);
        EXPECT_EQ(events[i].data, expected[i].data);
      }
    }
  }
  EXPECT_EQ(expected[0].data, "1\n2");
  EXPECT_EQ(expected[1].data, "x y");
}

TEST(SseParser, CommentsAndFieldOnlyBlocksDispatchNothing) {
  const auto events = parse_all(": ping\n\nevent: lonely\n\nretry: 100\nid: 7\n\ndata: after\n\n");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event, "message");  // the name of a block without data does not leak
  EXPECT_EQ(events[0].data, "after");
  EXPECT_EQ(events[0].id, "7");  // the last id persists
}

TEST(SseParser, KeepsAnUnfinishedEventUntilItsBlankLine) {
  SseParser parser;
  std::vector<SseEvent> out;
  ASSERT_TRUE(
      parser.feed("\xEF\xBB\xBF"
                  "data:  two spaces\n",
                  out));
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(parser.has_partial_event());
  ASSERT_TRUE(parser.feed("\n", out));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].data, " two spaces");  // only one space after the colon is stripped
  EXPECT_FALSE(parser.has_partial_event());
}

TEST(SseParser, RefusesAnEventBeyondTheLimit) {
  SseParser parser;
  std::vector<SseEvent> out;
  const std::string big(1 << 20, 'x');
  Result<void> fed = parser.feed("data: ", out);
  for (std::size_t i = 0; fed && i <= SseParser::kEventBytesMax / big.size(); ++i) {
    fed = parser.feed(big, out);
  }
  ASSERT_FALSE(fed);
  EXPECT_EQ(fed.error().code, ErrorCode::resource_exhausted);
}

}  // namespace
}  // namespace reliant::llm
