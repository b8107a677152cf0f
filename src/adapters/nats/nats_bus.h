// NatsBus: the Bus port on a real nats-server through nats.c (the distributed deployment).
//
// nats.c runs its own threads: every message is handed to the connection's executor with post(),
// so handlers run on the component's executor like on every other Bus. nats.c reconnects on its
// own (forever by default) and re-subscribes; publishes made while disconnected are buffered.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "runtime/bus.h"
#include "runtime/future.h"
#include "runtime/executor.h"

struct __natsConnection;
struct __natsSubscription;

namespace reliant {

struct NatsOptions {
  std::string url;               // nats://host:port
  std::string name = "reliant";  // shown by the server's monitoring
  Duration reconnect_wait = milliseconds(250);
  int max_reconnects = -1;  // -1: forever
};

class NatsBus final : public Bus {
 public:
  // Connects before returning; fails with `unavailable` when no server answers and
  // `invalid_argument` for a malformed URL.
  static Result<std::unique_ptr<NatsBus>> connect(Executor& executor, const NatsOptions& options);
  ~NatsBus() override;

  Result<void> publish(std::string_view subject, std::string data,
                       std::string_view reply_to = {}) override;
  // Returns once the server has registered the subscription (one round trip), so a publish made
  // afterwards from any connection reaches it — the guarantee every Bus gives.
  Result<SubscriptionPtr> subscribe(std::string_view pattern, BusHandler handler) override;
  Result<SubscriptionPtr> queue_subscribe(std::string_view pattern, std::string_view group,
                                          BusHandler handler) override;
  Task<Result<BusMessage>> request(std::string subject, std::string data,
                                   Duration timeout) override;
  std::string new_inbox() override;

  // Blocks until the server has processed everything this connection sent (one round trip).
  // For tests and orderly shutdown, never on a component's executor.
  Result<void> flush(Duration timeout);
  bool connected() const { return connected_.load(); }
  // Messages received from the server whose handlers have not run yet (queued in nats.c or
  // posted to the executor). With flush(), lets a caller wait until everything sent has been
  // handled — for tests.
  std::int64_t undelivered() const;

  // What undelivered() counts; shared with nats.c callbacks, which may outlive the bus.
  struct Backlog {
    std::atomic<std::int64_t> posted{0};
    std::mutex mutex;
    std::map<__natsSubscription*, const std::atomic<std::int64_t>*> subscriptions;  // → calls begun
  };

 private:
  NatsBus(Executor& executor, __natsConnection* connection, std::string inbox_prefix,
          std::atomic<NatsBus*>* callback_slot);
  Result<SubscriptionPtr> add(std::string_view pattern, std::string_view group, BusHandler handler);
  static void on_disconnected(__natsConnection*, void* self);
  static void on_reconnected(__natsConnection*, void* self);

  Executor& executor_;
  __natsConnection* connection_;
  std::string inbox_prefix_;
  std::uint64_t inboxes_ = 0;
  std::atomic<bool> connected_{true};
  std::atomic<NatsBus*>* callback_slot_;  // owned by nats.c's closed callback
  std::shared_ptr<Backlog> backlog_ = std::make_shared<Backlog>();
  // Requests waiting for a reply, by inbox (executor thread only), and the one subscription
  // that serves them all.
  std::shared_ptr<std::map<std::string, Promise<Result<BusMessage>>>> waiting_ =
      std::make_shared<std::map<std::string, Promise<Result<BusMessage>>>>();
  SubscriptionPtr inbox_subscription_;  // last: unsubscribes before the rest goes
};

}  // namespace reliant
