// bench_chat: end-to-end chat latency and throughput as a client sees them, against a running
// API server (monolith or distributed). Each of C clients owns a chat and keeps one update
// stream open; it sends a message, waits for that run's final status on the stream, and sends
// the next. Latency = send → final status received; throughput = finished chats per second.
//   bench_chat --server http://127.0.0.1:8080 --token T [--clients C] [--messages M] [--text S]
//   bench_chat --server … --token T --sizes 1000   p50 in a chat of ~1000 messages against one of
//                                                   ~10, sends alternating between the two
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "app/http_client.h"
#include "core/sse.h"
#include "percentile.h"

namespace {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;
using reliant::bench::percentile;

// Final statuses seen on a client's stream, by run id.
struct Finals {
  std::mutex mutex;
  std::condition_variable changed;
  std::deque<std::string> runs;
  bool closed = false;
  std::string last_run;  // the stream ends once this run's final status has arrived
  std::string error;
};

void follow(const reliant::HttpEndpoint& endpoint, const std::string& token,
            const std::string& chat, Finals* finals) {
  reliant::SseParser parser;
  std::vector<reliant::SseEvent> events;
  auto streamed = reliant::http_stream(
      endpoint, "/api/v1/updates?previews=false&chat_id=" + chat + "&since_seq=0",
      {{"Authorization", "Bearer " + token}}, [&](std::string_view bytes) {
        events.clear();
        if (!parser.feed(bytes, events)) return false;
        for (const auto& sse : events) {
          auto event = Json::parse(sse.data, nullptr, false);
          if (event.is_discarded() || event.value("kind", "") != "chat_status") continue;
          const Json body = event.value("body", Json::object());
          if (body.value("status", "") == "running") continue;
          std::lock_guard lock(finals->mutex);
          finals->runs.push_back(body.value("run_id", ""));
          if (finals->runs.back() == finals->last_run) finals->closed = true;
          finals->changed.notify_all();
        }
        std::lock_guard lock(finals->mutex);
        return !finals->closed;
      });
  std::lock_guard lock(finals->mutex);
  if (!streamed) finals->error = streamed.error().message;
  finals->closed = true;
  finals->changed.notify_all();
}

struct ClientResult {
  std::vector<double> latencies_ms;
  std::string error;
};

void client(const reliant::HttpEndpoint& endpoint, const std::string& token, int messages,
            const std::string& text, ClientResult* result) {
  const reliant::HttpHeaders auth{{"Authorization", "Bearer " + token}};
  auto created =
      reliant::http_call(endpoint, "POST", "/api/v1/chats", auth, R"({"title":"bench"})");
  if (!created || created->status != 201) {
    result->error = created ? created->body : created.error().message;
    return;
  }
  const std::string chat = Json::parse(created->body).value("id", "");
  Finals finals;
  std::thread stream(follow, endpoint, token, chat, &finals);
  // The stream is live once it has answered; a short pause keeps the first send after it.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const std::string body = Json{{"text", text}}.dump();
  // Sends reuse one connection, as a browser's or SDK's client does.
  reliant::HttpSession session(endpoint);
  for (int i = 0; i < messages && result->error.empty(); ++i) {
    const auto start = Clock::now();
    auto sent = session.call("POST", "/api/v1/chats/" + chat + "/messages", auth, body);
    if (!sent || sent->status != 202) {
      result->error = sent ? sent->body : sent.error().message;
      break;
    }
    const std::string run = Json::parse(sent->body).value("run_id", "");
    std::unique_lock lock(finals.mutex);
    if (i + 1 == messages) finals.last_run = run;
    const bool done = finals.changed.wait_for(lock, std::chrono::seconds(60), [&] {
      return finals.closed ||
             std::find(finals.runs.begin(), finals.runs.end(), run) != finals.runs.end();
    });
    const bool seen = std::find(finals.runs.begin(), finals.runs.end(), run) != finals.runs.end();
    if (!done || !seen) {
      result->error = done ? "stream closed: " + finals.error : "no final status within 60 s";
      break;
    }
    result->latencies_ms.push_back(
        std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  {
    std::lock_guard lock(finals.mutex);
    finals.closed = true;  // after an error: the stream ends at its next keepalive
  }
  stream.join();
}

// One chat and its update stream, for sends one at a time.
class ChatSession {
 public:
  ChatSession(const reliant::HttpEndpoint& endpoint, std::string token)
      : endpoint_(endpoint), token_(std::move(token)), session_(endpoint) {}
  ~ChatSession() {
    close();
    if (stream_.joinable()) stream_.join();
  }
  // A stream not ended by a last send ends at its next keepalive: close every session before
  // destroying the first, so that they wait for their keepalives together.
  void close() {
    std::lock_guard lock(finals_.mutex);
    finals_.closed = true;
  }

  bool open() {
    auto created =
        reliant::http_call(endpoint_, "POST", "/api/v1/chats", auth(), R"({"title":"bench"})");
    if (!created || created->status != 201) return false;
    chat_ = Json::parse(created->body).value("id", "");
    stream_ = std::thread(follow, endpoint_, token_, chat_, &finals_);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    return true;
  }
  // Milliseconds from the send to the run's final status; negative on failure. The stream ends
  // with the `last` send's final status, as a client's does: nothing then waits for a keepalive.
  double send(const std::string& text, bool last = false) {
    const auto start = Clock::now();
    auto sent = session_.call("POST", "/api/v1/chats/" + chat_ + "/messages", auth(),
                              Json{{"text", text}}.dump());
    if (!sent || sent->status != 202) return -1;
    const std::string run = Json::parse(sent->body).value("run_id", "");
    std::unique_lock lock(finals_.mutex);
    if (last) finals_.last_run = run;
    const bool seen = finals_.changed.wait_for(lock, std::chrono::seconds(60), [&] {
      return std::find(finals_.runs.begin(), finals_.runs.end(), run) != finals_.runs.end();
    });
    if (!seen) return -1;
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  }

 private:
  reliant::HttpHeaders auth() const { return {{"Authorization", "Bearer " + token_}}; }
  reliant::HttpEndpoint endpoint_;
  std::string token_;
  reliant::HttpSession session_;
  std::string chat_;
  Finals finals_;
  std::thread stream_;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"End-to-end chat latency and throughput against a running API server"};
  std::string server = "http://127.0.0.1:8080";
  std::string token;
  int clients = 1;
  int messages = 200;
  std::string text = "hello";
  bool insecure = false;
  app.add_option("--server", server)->capture_default_str();
  app.add_flag("--insecure", insecure, "https without checking the certificate (a monolith's)");
  app.add_option("--token", token)->required();
  app.add_option("--clients", clients)->capture_default_str();
  app.add_option("--messages", messages, "Messages per client")->capture_default_str();
  app.add_option("--text", text,
                 "The message (the scripted model answers without tools unless asked)")
      ->capture_default_str();
  int sizes = 0;
  app.add_option("--sizes", sizes,
                 "Compare sends to a chat of about this many messages with sends to chats of "
                 "about ten, alternating")
      ->check(CLI::Range(20, 100000));
  CLI11_PARSE(app, argc, argv);
  auto endpoint = reliant::parse_http_endpoint(server);
  if (!endpoint) {
    std::fprintf(stderr, "error: %s\n", endpoint.error().message.c_str());
    return 2;
  }
  endpoint->insecure = insecure;
  if (sizes > 0) {
    // Each send adds the user's message and the answer: the big chat grows to `sizes` messages
    // first; then sends alternate between it and small chats of at most ten messages (a fresh
    // one every five sends), so a drift in the machine's speed weighs on both alike.
    constexpr int kRounds = 100;
    constexpr int kSmallSends = 5;
    ChatSession big(*endpoint, token);
    if (!big.open()) return std::fprintf(stderr, "error: cannot create a chat\n"), 1;
    for (int i = 0; i < sizes / 2; ++i) {
      if (big.send(text) < 0) return std::fprintf(stderr, "error: a send failed\n"), 1;
    }
    std::vector<double> small_ms;
    std::vector<double> big_ms;
    std::vector<std::unique_ptr<ChatSession>> smalls;
    for (int i = 0; i < kRounds / kSmallSends; ++i) {
      smalls.push_back(std::make_unique<ChatSession>(*endpoint, token));
      if (!smalls.back()->open()) return std::fprintf(stderr, "error: cannot create a chat\n"), 1;
    }
    for (int round = 0; round < kRounds; ++round) {
      const double a = smalls[static_cast<std::size_t>(round / kSmallSends)]->send(
          text, round % kSmallSends == kSmallSends - 1);
      const double b = big.send(text, round == kRounds - 1);
      if (a < 0 || b < 0) return std::fprintf(stderr, "error: a send failed\n"), 1;
      small_ms.push_back(a);
      big_ms.push_back(b);
    }
    big.close();
    for (auto& small : smalls) small->close();
    const double small_p50 = percentile(small_ms, 0.5);
    const double big_p50 = percentile(big_ms, 0.5);
    std::printf(
        "chat of ~10 messages: p50 %.2fms p90 %.2fms; chat of ~%d messages: p50 %.2fms p90 "
        "%.2fms; p50 ratio %.2fx (%d sends each, alternating)\n",
        small_p50, percentile(small_ms, 0.9), sizes + 2 * kRounds, big_p50, percentile(big_ms, 0.9),
        small_p50 > 0 ? big_p50 / small_p50 : 0, kRounds);
    return 0;
  }
  std::vector<ClientResult> results(static_cast<std::size_t>(clients));
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back(client, *endpoint, token, messages, text,
                         &results[static_cast<std::size_t>(i)]);
  }
  for (auto& thread : threads) thread.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (const auto& result : results) {
    if (!result.error.empty()) {
      std::fprintf(stderr, "error: %s\n", result.error.c_str());
      return 1;
    }
    all.insert(all.end(), result.latencies_ms.begin(), result.latencies_ms.end());
  }
  std::printf(
      "chats=%zu clients=%d p50=%.2fms p90=%.2fms p99=%.2fms max=%.2fms throughput=%.1f chats/s\n",
      all.size(), clients, percentile(all, 0.5), percentile(all, 0.9), percentile(all, 0.99),
      percentile(all, 1.0), static_cast<double>(all.size()) / seconds);
  // As a chat grows: each send adds the user's message and the answer (two messages when the
  // model answers without tools), so the chat holds about 2i messages at send i. The p50 over
  // ten sends around each size, every client's, against the first ten.
  std::vector<double> first;
  for (const auto& result : results) {
    for (std::size_t i = 0; i < std::min<std::size_t>(10, result.latencies_ms.size()); ++i)
      first.push_back(result.latencies_ms[i]);
  }
  const double base = percentile(first, 0.5);
  std::printf("p50 by chat size: ~20 messages %.2fms", base);
  for (const std::size_t size : {100, 200, 500, 1000, 2000, 3000}) {
    std::vector<double> window;
    const std::size_t from = size / 2;
    for (const auto& result : results) {
      for (std::size_t i = from; i < std::min(from + 10, result.latencies_ms.size()); ++i)
        window.push_back(result.latencies_ms[i]);
    }
    if (window.size() < 10) break;
    const double p50 = percentile(window, 0.5);
    std::printf(", ~%zu messages %.2fms (%.2fx)", size, p50, base > 0 ? p50 / base : 0);
  }
  std::printf("\n");
  return 0;
}
