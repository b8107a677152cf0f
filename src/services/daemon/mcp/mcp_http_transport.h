// The MCP transports over HTTP, through the HttpClient port:
//
// StreamableHttpTransport (MCP 2025-03-26 and later): each message the client sends is a POST to
// the server's one endpoint, answered with 202 (a notification or response), one JSON message,
// or an event stream of messages ending with the request's response. The session id the server
// gives on initialize (Mcp-Session-Id) and the negotiated version (MCP-Protocol-Version) go on
// every later request. After initialize a GET stream listens for what the server sends on its own
// (a 405 means it sends nothing that way). An event stream that ends before the response it owes
// is resumed with a GET carrying Last-Event-ID, after the server's `retry` delay (SEP-1699).
// close() ends the session with a DELETE.
//
// SseTransport (the HTTP+SSE transport of 2024-11-05): a GET event stream whose first event,
// `endpoint`, names where to POST messages; every answer comes on the stream. Messages sent
// before the endpoint is known wait for it (bounded).
//
// Either one fails what it cannot deliver precisely: an HTTP error or a broken exchange answers
// the request it carried with a JSON-RPC error naming the status, and a server that cannot be
// reached at all (or ended the session: 404) closes the transport, as a stdio server exiting does.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "runtime/executor.h"
#include "runtime/future.h"
#include "runtime/http_client.h"
#include "runtime/scope.h"
#include "services/daemon/mcp/mcp_transport.h"

namespace reliant::mcp {

struct McpHttpEndpoint {
  std::string url;
  std::map<std::string, std::string> headers;  // sent with every request (Authorization …)
  Duration request_timeout = minutes(10);      // one exchange, the longest tool call included
  std::size_t resumptions_max = 16;            // reconnections of one stream, in a row
  std::size_t queued_max = 256;                // SseTransport: messages waiting for the endpoint
};

class StreamableHttpTransport final : public TransportBase {
 public:
  // `http` must outlive the transport.
  StreamableHttpTransport(Executor& executor, HttpClient& http, McpHttpEndpoint endpoint);
  ~StreamableHttpTransport() override;

  Result<void> open(OnMessage on_message, OnClosed on_closed) override;
  Result<void> send(std::string message) override;
  void close() override;

  const std::string& session_id() const { return session_id_; }

 private:
  struct Exchange;  // one POST's or GET's stream
  // Sends what waits in the outbox, one POST at a time until its answer's head arrives: the
  // server sees the messages in the order they were sent (notifications/initialized before the
  // requests that follow it), while a long answer streams on beside the next requests.
  Task<void> pump();
  Task<void> post(std::string message, Promise<bool> head_seen);
  // A GET stream: what the server sends on its own, or (after `last_event_id`) the rest of a
  // stream that broke off. Waits `delay` first.
  Task<void> listen(std::string last_event_id, Duration delay, std::size_t attempt);
  std::vector<std::pair<std::string, std::string>> headers(bool posting) const;
  // Hands one message on; learns the session's version from the initialize result. False when
  // the transport was closed (or destroyed) by it.
  bool deliver(const std::string& message);

  HttpClient& http_;
  McpHttpEndpoint endpoint_;
  std::string session_id_;
  std::string protocol_version_;
  bool listening_ = false;  // the GET stream for the server's own messages was started
  std::deque<std::string> outbox_;
  bool pumping_ = false;
};

class SseTransport final : public TransportBase {
 public:
  SseTransport(Executor& executor, HttpClient& http, McpHttpEndpoint endpoint);
  ~SseTransport() override;

  Result<void> open(OnMessage on_message, OnClosed on_closed) override;
  Result<void> send(std::string message) override;
  void close() override;

 private:
  Task<void> stream();
  Task<void> post(std::string message);

  HttpClient& http_;
  McpHttpEndpoint endpoint_;
  std::string post_url_;             // from the `endpoint` event
  std::deque<std::string> waiting_;  // sent before post_url_ was known
};

// Where `reference` leads from `base` (an absolute URL, an absolute path, or a relative path),
// as the `endpoint` event's data is read.
std::string resolve_url(const std::string& base, const std::string& reference);

}  // namespace reliant::mcp
