// Bus: NATS core semantics (docs/architecture.md §4). At-most-once, no persistence,
// per-publisher order.
//
// One Bus object is one connection, bound to the executor of the component that uses it:
// handlers always run on that executor. Implementations: the in-process bus (monolith), the
// simulated bus (faults), the nats.c adapter (distributed). All pass one contract suite
// (tests/property/bus_contract.h).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"
#include "base/time.h"
#include "runtime/task.h"

namespace reliant {

struct BusMessage {
  std::string subject;
  std::string reply_to;  // empty when no reply is expected
  std::string data;
  // Set on the status message a broker sends to a request's inbox when nobody is subscribed to
  // the request's subject (NATS 503 "no responders").
  bool no_responders = false;
};

using BusHandler = std::function<void(const BusMessage&)>;

// Unsubscribes when destroyed. No handler call starts after destruction.
class Subscription {
 public:
  virtual ~Subscription() = default;
};
using SubscriptionPtr = std::unique_ptr<Subscription>;

class Bus {
 public:
  virtual ~Bus() = default;

  // Sends `data` to every plain subscriber whose pattern matches and to one member of each
  // matching queue group. Fails only on an invalid subject or a closed connection — delivery
  // itself is never confirmed. With a `reply_to` and no matching subscriber at all, the broker
  // sends a `no_responders` status message to `reply_to` — on this connection only.
  virtual Result<void> publish(std::string_view subject, std::string data,
                               std::string_view reply_to = {}) = 0;

  // Every message matching `pattern` reaches `handler`, on this connection's executor.
  virtual Result<SubscriptionPtr> subscribe(std::string_view pattern, BusHandler handler) = 0;

  // Like subscribe, but each message reaches exactly one member of `group`: members are all
  // subscriptions with this group name whose pattern matches the message, on any connection,
  // whatever their pattern (as in nats-server).
  virtual Result<SubscriptionPtr> queue_subscribe(std::string_view pattern, std::string_view group,
                                                  BusHandler handler) = 0;

  // Publishes with a fresh inbox as reply_to and waits for the first reply. Fails with
  // `no_responders` when nobody is subscribed to `subject`, `timeout` when no reply comes within
  // `timeout`, `closed` when the connection is closed.
  virtual Task<Result<BusMessage>> request(std::string subject, std::string data,
                                           Duration timeout) = 0;

  // A unique subject for replies, e.g. "_INBOX.<conn>.<n>".
  virtual std::string new_inbox() = 0;
};

}  // namespace reliant
