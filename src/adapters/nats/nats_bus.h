// NatsBus: the Bus port on a real nats-server through nats.c (the distributed deployment).
//
// nats.c runs in its event-loop mode on the connection's executor: the executor's thread reads
// the socket, and hands each message to its handler itself; a publish is written at once. No
// nats.c thread stands between the socket and a handler — each such hand-off is a thread
// wake-up, and two of them per message (nats.c's reader thread, then the subscription's delivery
// thread, then the executor) cost 60–80 µs per request-reply on this project's 2-core machines
// (tools/bench_tool_path.sh prints the figure). nats.c still reconnects on a thread of its own
// (forever by default) and re-subscribes; publishes made while disconnected are buffered.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "adapters/asio/asio_executor.h"
#include "runtime/bus.h"
#include "runtime/executor.h"
#include "runtime/future.h"

struct __natsConnection;
struct __natsSubscription;
struct __natsStatistics;
struct __natsMsg;

namespace reliant {

struct NatsSocket;

struct NatsOptions {
  std::string url;               // nats://host:port
  std::string name = "reliant";  // shown by the server's monitoring
  Duration reconnect_wait = milliseconds(250);
  int reconnects_max = -1;  // -1: forever
};

class NatsBus final : public Bus {
 public:
  // Connects before returning; fails with `unavailable` when no server answers and
  // `invalid_argument` for a malformed URL.
  static Result<std::unique_ptr<NatsBus>> connect(AsioExecutor& executor,
                                                  const NatsOptions& options);
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

  // Blocks until the server has processed everything this connection sent and this connection
  // has read everything the server sent before (one round trip); what was read on the way is
  // handled from a later executor turn. Works on the executor's thread (subscribe() uses it
  // there) or on any other, whether the executor runs or not (tests, shutdown).
  Result<void> flush(Duration timeout);
  bool connected() const { return connected_.load(); }
  // Messages read from the server whose handlers have not run yet. With flush(), lets a caller
  // wait until everything sent has been handled — for tests.
  std::int64_t undelivered() const;
  // nats.c's counts for this connection, from any thread. With flush() and undelivered(), the
  // messages read and published let a caller see that a round of handling brought nothing new
  // and sent nothing still on its way — for tests; reconnects counts a lost server as well as an
  // error of nats.c's own.
  struct MessageCounts {
    std::uint64_t received = 0;
    std::uint64_t sent = 0;
    std::uint64_t reconnects = 0;
  };
  MessageCounts counts() const;

  // The subscriptions whose messages the executor hands out, shared with their Subscription
  // objects (which unregister themselves) and read by undelivered() from any thread.
  struct Registry {
    struct Entry {
      std::weak_ptr<BusHandler> handler;  // gone = not delivered
      std::string pattern;                // names a request's inbox in a no-responders status
      // A request's inbox (a ReplySlot's): whether a request waits on it now (executor thread
      // only); a no-responders status goes to no idle slot.
      const bool* waiting = nullptr;
    };
    mutable std::mutex mutex;
    std::map<__natsSubscription*, Entry> subscriptions;
  };

 private:
  friend struct NatsSocket;
  NatsBus(AsioExecutor& executor, __natsConnection* connection, std::string inbox_prefix,
          std::shared_ptr<NatsSocket> socket, std::atomic<NatsBus*>* callback_slot);
  // `reply_slot_waiting` set: a ReplySlot's subscription, active without waiting for the server
  // (see take_reply_slot()). Otherwise add() returns once the server has the subscription.
  Result<SubscriptionPtr> add(std::string_view pattern, std::string_view group, BusHandler handler,
                              const bool* reply_slot_waiting = nullptr);
  // A request's inbox kept for the next request once answered: a subscription on
  // `<prefix>.*`, each request replied to on `<prefix>.<its number>`. A subscription made and
  // dropped per request cost a SUB and an UNSUB a call, and the server two updates of its
  // subscription index (tools/bench_tool_path.sh: nats-server's CPU a tool call 50.8 -> 46.7 µs,
  // the caller's 36.8 -> 32.9, means of ten passes). A reply to an
  // earlier request (a second responder's) names that request's number and is ignored. A
  // request either gets the server's no-responders status or replies, never both, so a status
  // on a slot is its current request's — unless that one timed out, when the status may yet
  // come: a slot whose request timed out (or was abandoned) is dropped, not kept.
  struct ReplySlot {
    bool waiting = false;
    std::string prefix;    // `<inbox>.`: the reply subject is this and the request's number
    std::string expected;  // the reply subject of the request waiting
    std::string subject;   // what it asked
    std::optional<Promise<Result<BusMessage>>> promise;
    SubscriptionPtr subscription;  // last: unregistered before `waiting` goes
  };
  Result<std::shared_ptr<ReplySlot>> take_reply_slot();
  // Idle slots kept at most: more requests at once than this make slots that are dropped after.
  static constexpr std::size_t kIdleReplySlotsMax = 64;
  // On the executor's thread, after the socket was read: every message waiting in a
  // subscription goes to its handler, in the order it arrived per subscription.
  void deliver();
  // nats.c's counts of the messages this connection has read and published, and of its
  // reconnections, into `stats`, under the socket's lock (no read is then half-way between
  // counting a message and queueing it); nothing if nats.c cannot say.
  std::optional<MessageCounts> count_messages(__natsStatistics* stats) const;
  // Under the registry's lock: the one request inbox `pattern` matches, if exactly one does.
  const Registry::Entry* sole_inbox_matching(const std::string& pattern) const;
  // nats.c gives every destroyed message to its collector thread and wakes that thread if it
  // sleeps — a wake-up per message, on the machine's few cores just when the handler needs one.
  // Delivered messages wait here instead and are destroyed together, once they are this many
  // or this large (so an idle bus holds at most that much); ~NatsBus destroys the rest.
  static constexpr std::size_t kRetiredMax = 64;
  static constexpr std::size_t kRetiredBytesMax = 256u << 10;
  void retire(__natsMsg* message);
  void destroy_retired();
  static void on_disconnected(__natsConnection*, void* self);
  static void on_reconnected(__natsConnection*, void* self);

  AsioExecutor& executor_;
  __natsConnection* connection_;
  std::shared_ptr<NatsSocket> socket_;  // nats.c's socket as the executor watches it
  std::string inbox_prefix_;
  std::uint64_t inboxes_ = 0;
  std::atomic<bool> connected_{true};
  std::atomic<NatsBus*>* callback_slot_;  // owned by nats.c's closed callback
  std::shared_ptr<Registry> registry_ = std::make_shared<Registry>();
  std::vector<std::shared_ptr<ReplySlot>> idle_reply_slots_;  // executor thread only
  // deliver()'s count of the messages it took, against the connection's count of those it
  // received (read into `stats_`): executor thread only.
  __natsStatistics* stats_ = nullptr;
  std::uint64_t taken_ = 0;
  std::vector<__natsMsg*> retired_;  // executor thread only
  std::size_t retired_bytes_ = 0;
};

}  // namespace reliant
