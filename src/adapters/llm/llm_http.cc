// LlmHttpClient: one connection per POST (resolve, connect, TLS, write, read the head, stream
// the body), each step bridged to the calling coroutine with make_promise and guarded by a
// watchdog timer; call_with_retries drives attempts of it.
#include "adapters/llm/llm_http.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <exception>
#include <limits>
#include <random>
#include <utility>

#include <openssl/ssl.h>

#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "runtime/future.h"
#include "runtime/sleep.h"

namespace reliant::llm {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;

namespace {

// Response heads from API gateways (cookies, tracing) can exceed Beast's 8 KiB default.
constexpr std::uint32_t kHeaderBytesMax = 64u << 10;
constexpr std::size_t kReadChunkBytes = 16u << 10;

std::string lower_case(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Boost 1.74's Beast hands out boost::string_view.
std::string_view view(beast::string_view text) { return {text.data(), text.size()}; }

// One request's socket and parser. Shared by the coroutine and pending Asio completions, which
// may run after the coroutine's frame is gone.
struct Connection {
  Connection(net::io_context& io, ssl::context* tls_context) : resolver(io) {
    if (tls_context != nullptr) {
      tls.emplace(io, *tls_context);
    } else {
      plain.emplace(io);
    }
  }

  tcp::socket& socket() { return tls ? tls->next_layer() : *plain; }

  // Aborts whatever is outstanding: pending operations complete with an error.
  void close() {
    resolver.cancel();
    beast::error_code ignored;
    socket().shutdown(tcp::socket::shutdown_both, ignored);
    socket().close(ignored);
  }

  template <class F>
  void with_stream(F&& f) {
    if (tls) {
      f(*tls);
    } else {
      f(*plain);
    }
  }

  tcp::resolver resolver;
  std::optional<tcp::socket> plain;
  std::optional<beast::ssl_stream<tcp::socket>> tls;
  beast::flat_buffer buffer;
  http::request<http::string_body> request;
  std::optional<http::response_parser<http::buffer_body>> parser;
  std::array<char, kReadChunkBytes> chunk{};
  std::string expired;  // set by the watchdog: why it closed the connection
};

struct CloseOnExit {
  std::shared_ptr<Connection> connection;
  ~CloseOnExit() { connection->close(); }
};

struct Resolved {
  beast::error_code ec;
  tcp::resolver::results_type results;
};

Future<Resolved> resolve(Executor& executor, const std::shared_ptr<Connection>& c,
                         const HttpUrl& url) {
  auto pair = make_promise<Resolved>(executor);
  c->resolver.async_resolve(
      url.host, url.port,
      [c, promise = pair.first](beast::error_code ec, tcp::resolver::results_type results) {
        promise.set(Resolved{ec, std::move(results)});
      });
  return std::move(pair.second);
}

Future<beast::error_code> connect(Executor& executor, const std::shared_ptr<Connection>& c,
                                  const tcp::resolver::results_type& results) {
  auto pair = make_promise<beast::error_code>(executor);
  net::async_connect(
      c->socket(), results,
      [c, promise = pair.first](beast::error_code ec, const tcp::endpoint&) { promise.set(ec); });
  return std::move(pair.second);
}

Future<beast::error_code> handshake(Executor& executor, const std::shared_ptr<Connection>& c) {
  auto pair = make_promise<beast::error_code>(executor);
  c->tls->async_handshake(ssl::stream_base::client,
                          [c, promise = pair.first](beast::error_code ec) { promise.set(ec); });
  return std::move(pair.second);
}

Future<beast::error_code> write_request(Executor& executor, const std::shared_ptr<Connection>& c) {
  auto pair = make_promise<beast::error_code>(executor);
  c->with_stream([&](auto& stream) {
    http::async_write(
        stream, c->request,
        [c, promise = pair.first](beast::error_code ec, std::size_t) { promise.set(ec); });
  });
  return std::move(pair.second);
}

Future<beast::error_code> read_header(Executor& executor, const std::shared_ptr<Connection>& c) {
  auto pair = make_promise<beast::error_code>(executor);
  c->with_stream([&](auto& stream) {
    http::async_read_header(
        stream, c->buffer, *c->parser,
        [c, promise = pair.first](beast::error_code ec, std::size_t) { promise.set(ec); });
  });
  return std::move(pair.second);
}

// Reads what the socket has (not until the buffer is full: events must arrive as they are sent).
Future<beast::error_code> read_body_some(Executor& executor, const std::shared_ptr<Connection>& c) {
  auto& body = c->parser->get().body();
  body.data = c->chunk.data();
  body.size = c->chunk.size();
  auto pair = make_promise<beast::error_code>(executor);
  c->with_stream([&](auto& stream) {
    http::async_read_some(
        stream, c->buffer, *c->parser,
        [c, promise = pair.first](beast::error_code ec, std::size_t) { promise.set(ec); });
  });
  return std::move(pair.second);
}

// Closes the connection when the step it guards outlives the idle limit or the total budget.
TimerId arm_watchdog(Executor& executor, const std::shared_ptr<Connection>& c,
                     SteadyInstant deadline, const HttpTimeouts& timeouts) {
  const Duration left = deadline - executor.steady_now();
  const bool total_first = left <= timeouts.idle;
  std::string why = total_first ? "no complete answer within " + format_duration(timeouts.total)
                                : "no data for " + format_duration(timeouts.idle);
  return executor.after(total_first ? left : timeouts.idle, [c, why = std::move(why)] {
    if (c->expired.empty()) c->expired = why;
    c->close();
  });
}

tl::unexpected<Error> step_failed(const Connection& c, const std::string& what,
                                  beast::error_code ec) {
  if (!c.expired.empty()) return fail(ErrorCode::timeout, what + ": " + c.expired);
  return fail(ErrorCode::unavailable, what + ": " + ec.message());
}

std::string host_header(const HttpUrl& url) {
  const std::string host =
      url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
  const bool default_port = url.port == (url.tls ? "443" : "80");
  return default_port ? host : host + ":" + url.port;
}

bool is_ip_literal(const std::string& host) {
  beast::error_code ec;
  net::ip::make_address(host, ec);
  return !ec;
}

bool all_digits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "12", "0.25": a non-negative decimal; nullopt otherwise.
std::optional<double> parse_decimal(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  const std::size_t dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  const std::string_view fraction =
      dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  if (!all_digits(whole) || (dot != std::string_view::npos && !all_digits(fraction))) {
    return std::nullopt;
  }
  if (whole.size() > 9) return 1e9;  // absurd; the caller caps it anyway
  double value = 0;
  for (char c : whole) value = value * 10 + (c - '0');
  double scale = 0.1;
  for (char c : fraction) {
    value += (c - '0') * scale;
    scale /= 10;
  }
  return value;
}

std::string one_line_excerpt(std::string_view text, std::size_t bytes_max = 300) {
  std::string out(text.substr(0, bytes_max));
  for (char& c : out) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  if (text.size() > bytes_max) out += "…";
  return out;
}

}  // namespace

Result<HttpUrl> parse_http_url(std::string_view url) {
  HttpUrl out;
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    return fail(ErrorCode::invalid_argument,
                "'" + std::string(url) + "' is not an http:// or https:// URL");
  }
  const std::string scheme = lower_case(url.substr(0, scheme_end));
  if (scheme == "https") {
    out.tls = true;
  } else if (scheme == "http") {
    out.tls = false;
  } else {
    return fail(ErrorCode::invalid_argument,
                "unsupported URL scheme '" + scheme + "' (use http or https)");
  }
  std::string_view rest = url.substr(scheme_end + 3);
  const std::size_t authority_end = rest.find_first_of("/?#");
  const std::string_view authority = rest.substr(0, authority_end);
  rest = authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  if (authority.find('@') != std::string_view::npos) {
    return fail(ErrorCode::invalid_argument, "credentials in a URL are not supported");
  }
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return fail(ErrorCode::invalid_argument, "unterminated IPv6 address in a URL");
    }
    out.host = std::string(authority.substr(1, close - 1));
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return fail(ErrorCode::invalid_argument, "unexpected text after an IPv6 address");
      }
      port = after.substr(1);
    }
  } else {
    const std::size_t colon = authority.find(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (out.host.empty()) {
    return fail(ErrorCode::invalid_argument, "no host in URL '" + std::string(url) + "'");
  }
  if (port.empty()) {
    out.port = out.tls ? "443" : "80";
  } else {
    const std::optional<double> number = parse_decimal(port);
    if (!all_digits(port) || !number || *number < 1 || *number > 65535) {
      return fail(ErrorCode::invalid_argument, "bad port '" + std::string(port) + "' in a URL");
    }
    out.port = std::to_string(static_cast<int>(*number));
  }
  const std::size_t fragment = rest.find('#');
  out.path = std::string(rest.substr(0, fragment));
  while (!out.path.empty() && out.path.back() == '/') out.path.pop_back();
  return out;
}

std::string join_url(std::string_view base, std::string_view path) {
  while (!base.empty() && base.back() == '/') base.remove_suffix(1);
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  return std::string(base) + "/" + std::string(path);
}

struct LlmHttpClient::Tls {
  ssl::context context{ssl::context::tls_client};
};

LlmHttpClient::LlmHttpClient(AsioExecutor& executor, std::string ca_file)
    : executor_(executor), ca_file_(std::move(ca_file)) {}

LlmHttpClient::~LlmHttpClient() = default;

Result<void> LlmHttpClient::ensure_tls() {
  if (tls_) return {};
  std::unique_ptr<Tls> tls;
  try {
    tls = std::make_unique<Tls>();
  } catch (const std::exception& e) {
    return fail(ErrorCode::internal, std::string("cannot set up TLS: ") + e.what());
  }
  beast::error_code ec;
  tls->context.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                               ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                               ssl::context::no_tlsv1_1,
                           ec);
  if (!ec) {
    if (ca_file_.empty()) {
      tls->context.set_default_verify_paths(ec);
    } else {
      tls->context.load_verify_file(ca_file_, ec);
    }
  }
  if (!ec) tls->context.set_verify_mode(ssl::verify_peer, ec);
  if (ec) {
    const std::string store = ca_file_.empty() ? "the system trust store" : "'" + ca_file_ + "'";
    return fail(ErrorCode::unavailable, "cannot load " + store + ": " + ec.message());
  }
  tls_ = std::move(tls);
  return {};
}

Task<Result<HttpReply>> LlmHttpClient::post(HttpPost post, BodySink on_body) {
  Result<HttpUrl> parsed = parse_http_url(post.url);
  if (!parsed) co_return fail(parsed.error());
  const HttpUrl url = std::move(*parsed);
  if (url.tls) {
    Result<void> ready = ensure_tls();
    if (!ready) co_return fail(ready.error());
  }
  auto c = std::make_shared<Connection>(executor_.context(), url.tls ? &tls_->context : nullptr);
  CloseOnExit closing{c};
  const std::string where = host_header(url);
  const SteadyInstant deadline = executor_.steady_now() + post.timeouts.total;
  beast::error_code ec;

  Resolved resolved;
  {
    ScopedTimer watchdog(executor_, arm_watchdog(executor_, c, deadline, post.timeouts));
    Future<Resolved> resolving = resolve(executor_, c, url);
    resolved = co_await resolving;
  }
  if (resolved.ec || !c->expired.empty()) {
    co_return step_failed(*c, "cannot resolve " + url.host, resolved.ec);
  }

  {
    ScopedTimer watchdog(executor_, arm_watchdog(executor_, c, deadline, post.timeouts));
    Future<beast::error_code> connecting = connect(executor_, c, resolved.results);
    ec = co_await connecting;
  }
  if (ec || !c->expired.empty()) co_return step_failed(*c, "cannot connect to " + where, ec);
  c->socket().set_option(tcp::no_delay(true), ec);  // best effort: small requests go out at once

  if (url.tls) {
    // SNI carries names only; the verification callback checks the certificate against the
    // name (or the IP address) we dialled.
    if (!is_ip_literal(url.host) &&
        SSL_set_tlsext_host_name(c->tls->native_handle(), url.host.c_str()) != 1) {
      co_return fail(ErrorCode::unavailable, "cannot set the TLS server name for " + url.host);
    }
    c->tls->set_verify_mode(ssl::verify_peer, ec);
    if (!ec) c->tls->set_verify_callback(ssl::host_name_verification(url.host), ec);
    if (ec) {
      co_return fail(ErrorCode::unavailable,
                     "cannot set up TLS for " + where + ": " + ec.message());
    }
    {
      ScopedTimer watchdog(executor_, arm_watchdog(executor_, c, deadline, post.timeouts));
      Future<beast::error_code> shaking = handshake(executor_, c);
      ec = co_await shaking;
    }
    if (ec || !c->expired.empty()) {
      co_return step_failed(*c, "TLS handshake with " + where + " failed", ec);
    }
  }

  const http::verb verb = http::string_to_verb(post.method);
  if (verb == http::verb::unknown) {
    co_return fail(ErrorCode::invalid_argument, "unknown HTTP method '" + post.method + "'");
  }
  c->request = http::request<http::string_body>(verb, url.path.empty() ? "/" : url.path, 11);
  c->request.set(http::field::host, where);
  c->request.set(http::field::user_agent, "reliant");
  for (const auto& [name, value] : post.headers) c->request.set(name, value);
  c->request.body() = std::move(post.body);
  c->request.prepare_payload();
  {
    ScopedTimer watchdog(executor_, arm_watchdog(executor_, c, deadline, post.timeouts));
    Future<beast::error_code> writing = write_request(executor_, c);
    ec = co_await writing;
  }
  if (ec || !c->expired.empty()) co_return step_failed(*c, "cannot send to " + where, ec);

  c->parser.emplace();
  c->parser->header_limit(kHeaderBytesMax);
  // A stream is as long as the answer; the timeouts bound it. (Not boost::none: Beast 1.74
  // compares a Content-Length against it and refuses every such body.)
  c->parser->body_limit(std::numeric_limits<std::uint64_t>::max());
  {
    ScopedTimer watchdog(executor_, arm_watchdog(executor_, c, deadline, post.timeouts));
    Future<beast::error_code> reading = read_header(executor_, c);
    ec = co_await reading;
  }
  if (ec || !c->expired.empty()) co_return step_failed(*c, "no answer from " + where, ec);

  HttpReply reply;
  reply.status = static_cast<int>(c->parser->get().result_int());
  for (const auto& field : c->parser->get()) {
    std::string name = lower_case(view(field.name_string()));
    const std::string_view value = view(field.value());
    auto [it, inserted] = reply.headers.emplace(std::move(name), std::string(value));
    if (!inserted) {
      it->second += ", ";
      it->second += value;
    }
  }
  if (post.on_head) post.on_head(reply.status, reply.headers);
  const bool success = post.sink_every_status || (reply.status >= 200 && reply.status < 300);

  while (!c->parser->is_done()) {
    {
      ScopedTimer watchdog(executor_, arm_watchdog(executor_, c, deadline, post.timeouts));
      Future<beast::error_code> reading = read_body_some(executor_, c);
      ec = co_await reading;
    }
    if (ec == http::error::need_buffer) ec = {};
    const std::size_t n = c->chunk.size() - c->parser->get().body().size;
    const std::string_view bytes(c->chunk.data(), n);
    if (success && !bytes.empty() && !on_body(bytes)) {
      reply.stopped = true;
      co_return reply;
    }
    if (!success) {
      const std::size_t room = kErrorBodyBytesMax - reply.error_body.size();
      reply.error_body.append(bytes.substr(0, room));
      if (reply.error_body.size() >= kErrorBodyBytesMax) break;  // enough to explain it
    }
    if (ec || !c->expired.empty()) {
      // A cut error body still says something; a cut stream is a failure the caller must see.
      if (!success && c->expired.empty()) break;
      co_return step_failed(*c, "the answer from " + where + " broke off", ec);
    }
  }
  co_return reply;
}

std::optional<Duration> retry_after(const std::map<std::string, std::string>& headers) {
  constexpr double kSecondsMax = 24 * 3600;  // beyond any sane value; keeps the cast in range
  if (auto it = headers.find("retry-after-ms"); it != headers.end()) {
    if (const auto ms = parse_decimal(it->second)) {
      return Duration(static_cast<Duration::rep>(std::min(*ms / 1000, kSecondsMax) * 1e9));
    }
  }
  if (auto it = headers.find("retry-after"); it != headers.end()) {
    if (const auto s = parse_decimal(it->second)) {
      return Duration(static_cast<Duration::rep>(std::min(*s, kSecondsMax) * 1e9));
    }
  }
  return std::nullopt;
}

std::uint64_t jitter_seed_from_os() {
  std::random_device device;
  return (static_cast<std::uint64_t>(device()) << 32) ^ device();
}

std::string redact(std::string text, std::string_view secret) {
  if (secret.empty()) return text;
  for (std::size_t at = text.find(secret); at != std::string::npos;
       at = text.find(secret, at + 1)) {
    text.replace(at, secret.size(), "[redacted]");
  }
  return text;
}

Task<Result<void>> call_with_retries(LlmHttpClient& http, Random& random, RetryPolicy policy,
                                     ProviderCall call, StreamConsumer& consumer) {
  Backoff backoff(policy.backoff);
  const int attempts = std::max(policy.attempts_max, 1);
  const std::string& who = call.provider;
  for (int attempt = 1;; ++attempt) {
    consumer.begin_attempt();
    std::optional<StreamFailure> stream_failure;
    BodySink sink = [&consumer, &stream_failure](std::string_view bytes) {
      stream_failure = consumer.consume(bytes);
      return !stream_failure.has_value();
    };
    Task<Result<HttpReply>> posting = http.post(call.post, std::move(sink));
    Result<HttpReply> reply = co_await posting;

    Error error{ErrorCode::unavailable, ""};
    bool retryable = false;
    std::optional<Duration> server_delay;
    if (!reply) {
      error = reply.error();
      error.message = who + ": " + error.message;
      retryable = error.code == ErrorCode::unavailable || error.code == ErrorCode::timeout;
      if (consumer.delivered_text()) error.code = ErrorCode::unavailable;
    } else if (reply->status >= 200 && reply->status < 300) {
      if (!stream_failure) stream_failure = consumer.finish();
      if (!stream_failure) co_return Result<void>{};
      error = std::move(stream_failure->error);
      retryable = stream_failure->retryable;
    } else {
      const int status = reply->status;
      std::string said = call.error_message ? call.error_message(reply->error_body) : "";
      if (said.empty()) said = one_line_excerpt(reply->error_body);
      const std::string http_status = "HTTP " + std::to_string(status);
      if (status == 401 || status == 403) {
        // The provider's text can quote part of the key: it is left out entirely.
        co_return fail(ErrorCode::unauthenticated,
                       who + ": the API key was refused (" + http_status + ")");
      }
      if (status == 400) {
        co_return fail(
            ErrorCode::invalid_argument,
            redact(who + " refused the request (" + http_status + "): " + said, call.secret));
      }
      error = Error{ErrorCode::unavailable,
                    who + " answered " + http_status + (said.empty() ? "" : ": " + said)};
      retryable = status == 408 || status == 429 || status >= 500;
      server_delay = retry_after(reply->headers);
    }

    if (retryable && consumer.delivered_text()) {
      // Text already reached the user: a second answer would repeat or contradict it.
      error.code = ErrorCode::unavailable;
      error.message += " (after the answer had begun; not retried)";
      retryable = false;
    }
    if (!retryable || attempt >= attempts) {
      if (retryable && attempts > 1) {
        error.message += " (gave up after " + std::to_string(attempts) + " attempts)";
      }
      error.message = redact(std::move(error.message), call.secret);
      co_return fail(std::move(error));
    }
    Duration delay = backoff.next(random);
    if (server_delay) delay = std::min(*server_delay, policy.retry_after_max);
    Sleep pausing = sleep(http.executor(), delay);
    co_await pausing;
  }
}

HttpProviderLlm::HttpProviderLlm(AsioExecutor& executor, const std::string& ca_file,
                                 std::optional<std::uint64_t> jitter_seed)
    : http_(executor, ca_file), random_(jitter_seed.value_or(jitter_seed_from_os())) {}

Task<Result<Response>> HttpProviderLlm::streamed(ProviderCall call, RetryPolicy policy,
                                                 std::unique_ptr<StreamConsumer> stream) {
  if (call.secret.empty()) {
    co_return fail(ErrorCode::unauthenticated, call.provider + ": no API key is configured");
  }
  Task<Result<void>> calling = call_with_retries(http_, random_, policy, std::move(call), *stream);
  Result<void> done = co_await calling;
  if (!done) co_return fail(done.error());
  co_return stream->take_response();
}

}  // namespace reliant::llm
