// LlmHttpClient: HTTPS/HTTP POSTs with a streamed response body on the AsioExecutor, and the
// retry loop the provider adapters share (backoff, Retry-After, no retry once text was shown).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "adapters/asio/asio_executor.h"
#include "base/result.h"
#include "base/time.h"
#include "core/backoff.h"
#include "runtime/llm.h"
#include "runtime/random.h"
#include "runtime/task.h"

namespace reliant::llm {

// http://host[:port][/path] or https://…; `path` has no trailing slash ("" for the root).
struct HttpUrl {
  bool tls = true;
  std::string host;
  std::string port;
  std::string path;
};

// Fails with `invalid_argument` naming what is wrong (scheme, host, port).
Result<HttpUrl> parse_http_url(std::string_view url);

// "https://api.openai.com/v1/" + "/chat/completions": one slash between them.
std::string join_url(std::string_view base, std::string_view path);

struct HttpTimeouts {
  Duration total = minutes(10);  // the whole exchange, connect to last byte
  Duration idle = seconds(120);  // the longest silence between bytes (providers ping every ~15s)
};

struct HttpPost {
  std::string method = "POST";  // the LLM providers' is always POST; other callers choose
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // sent as is; set content-type in `headers`
  HttpTimeouts timeouts;
  // Told the status and headers before any of the body is read (not for the providers' calls).
  std::function<void(int status, const std::map<std::string, std::string>& headers)> on_head;
  // True: every status's body goes to the body sink (not kept as error_body).
  bool sink_every_status = false;
};

struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  // A non-2xx answer's body (at most LlmHttpClient::kErrorBodyBytesMax); a 2xx body goes to the
  // body sink instead.
  std::string error_body;
  bool stopped = false;  // the body sink asked to stop before the body ended
};

// Receives a 2xx body as it arrives, on the executor's thread; returning false stops reading.
using BodySink = std::function<bool(std::string_view bytes)>;

class LlmHttpClient {
 public:
  static constexpr std::size_t kErrorBodyBytesMax = 64u << 10;

  // `executor` must outlive the client and every call. `ca_file` (PEM) replaces the system
  // trust store when set: for private gateways and TLS-intercepting proxies.
  explicit LlmHttpClient(AsioExecutor& executor, std::string ca_file = {});
  ~LlmHttpClient();
  LlmHttpClient(const LlmHttpClient&) = delete;
  LlmHttpClient& operator=(const LlmHttpClient&) = delete;

  // POSTs (or sends post.method) on one fresh connection. HTTPS verifies the peer against the trust
  // store and the host name, with SNI. Fails with `invalid_argument` (bad URL), `unavailable`
  // (resolve, connect, TLS or I/O failure; the connection broke mid-body) or `timeout` (a limit in
  // post.timeouts passed). Any HTTP status is a success here. Destroying the awaiting frame
  // closes the connection.
  Task<Result<HttpReply>> post(HttpPost post, BodySink on_body);

  AsioExecutor& executor() { return executor_; }

 private:
  struct Tls;
  Result<void> ensure_tls();

  AsioExecutor& executor_;
  std::string ca_file_;
  std::unique_ptr<Tls> tls_;  // created on the first https call
};

struct RetryPolicy {
  int attempts_max = 4;  // 1 = no retries
  BackoffPolicy backoff{milliseconds(500), seconds(30), 2.0, 0.5};
  Duration retry_after_max = seconds(60);  // a longer Retry-After is cut to this
};

// Why one attempt's stream failed, as the provider's parser saw it.
struct StreamFailure {
  Error error;
  bool retryable = false;  // a transient provider-side failure (e.g. Anthropic's overloaded_error)
};

// Parses one provider's streamed body; one instance serves every attempt of a call.
class StreamConsumer {
 public:
  virtual ~StreamConsumer() = default;
  // Forgets everything from a previous attempt.
  virtual void begin_attempt() = 0;
  virtual std::optional<StreamFailure> consume(std::string_view bytes) = 0;
  // The body ended: fails when the stream was cut before the provider said it was done.
  virtual std::optional<StreamFailure> finish() = 0;
  // True once this attempt handed text to the caller's sink: it can no longer be retried.
  virtual bool delivered_text() const = 0;
  // What the successful attempt said, once.
  virtual Response take_response() = 0;
};

struct ProviderCall {
  std::string provider;  // "anthropic", for messages
  HttpPost post;
  // The provider's error message in a non-2xx body ("" when it has none).
  std::function<std::string(std::string_view body)> error_message;
  std::string secret;  // the API key: never appears in an error message
};

// Seconds from Retry-After (delta-seconds; decimals accepted) or milliseconds from
// retry-after-ms (OpenAI); nullopt when absent or an HTTP date.
std::optional<Duration> retry_after(const std::map<std::string, std::string>& headers);

// A seed for backoff jitter from the OS (adapters only: components get theirs injected).
std::uint64_t jitter_seed_from_os();

// Replaces every occurrence of `secret` in `text`.
std::string redact(std::string text, std::string_view secret);

// Runs `call` until it succeeds, fails for good, or attempts run out. Retries connection
// failures, timeouts, 408, 429, 5xx and retryable stream failures, after a backoff (or the
// server's Retry-After), but never an attempt that already delivered text. Errors: 400 →
// invalid_argument (the provider's message), 401/403 → unauthenticated, other statuses,
// exhausted retries and cut streams → unavailable, timeouts → timeout. `http`, `random` and
// `consumer` must outlive the task.
Task<Result<void>> call_with_retries(LlmHttpClient& http, Random& random, RetryPolicy policy,
                                     ProviderCall call, StreamConsumer& consumer);

// What the HTTP providers share: their client, their backoff jitter, and a streamed call with
// retries whose stream becomes the response. Each provider builds its request and parses its
// own stream (AnthropicLlm, OpenAiLlm).
class HttpProviderLlm : public Llm {
 protected:
  // `executor` must outlive the adapter; complete() runs on its thread.
  HttpProviderLlm(AsioExecutor& executor, const std::string& ca_file,
                  std::optional<std::uint64_t> jitter_seed);

  // `call` (its key, `call.secret`, required) retried by `policy` into `stream`.
  Task<Result<Response>> streamed(ProviderCall call, RetryPolicy policy,
                                  std::unique_ptr<StreamConsumer> stream);

 private:
  LlmHttpClient http_;
  Random random_;
};

}  // namespace reliant::llm
