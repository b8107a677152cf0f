// The monolith's bus: NATS core semantics inside one process, no network.
//
// An InProcessBroker plays nats-server; each InProcessBus is one connection bound to the
// executor its handlers run on. The broker is thread-safe, so connections may live on different
// executors (threads).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>

#include "runtime/bus.h"
#include "runtime/executor.h"
#include "runtime/random.h"
#include "runtime/subscription_table.h"

namespace reliant {

class InProcessBroker {
 public:
  // `seed` drives queue-group member choice.
  explicit InProcessBroker(std::uint64_t seed = 1);

 private:
  friend class InProcessBus;
  struct Receiver {
    Executor* executor;
    std::weak_ptr<BusHandler> handler;
  };

  SubscriptionTable::Id add(std::string pattern, std::string group, std::uint64_t connection,
                            Receiver receiver);
  void remove(SubscriptionTable::Id id);
  void publish(std::uint64_t connection, BusMessage message);
  std::uint64_t next_connection_id();

  std::mutex mutex_;
  SubscriptionTable table_;
  std::map<SubscriptionTable::Id, Receiver> receivers_;
  Random random_;
  std::uint64_t connections_ = 0;
};

class InProcessBus final : public Bus {
 public:
  InProcessBus(InProcessBroker& broker, Executor& executor);

  Result<void> publish(std::string_view subject, std::string data,
                       std::string_view reply_to = {}) override;
  Result<SubscriptionPtr> subscribe(std::string_view pattern, BusHandler handler) override;
  Result<SubscriptionPtr> queue_subscribe(std::string_view pattern, std::string_view group,
                                          BusHandler handler) override;
  Task<Result<BusMessage>> request(std::string subject, std::string data,
                                   Duration timeout) override;
  std::string new_inbox() override;

 private:
  Result<SubscriptionPtr> add(std::string_view pattern, std::string_view group, BusHandler handler);

  InProcessBroker& broker_;
  Executor& executor_;
  std::uint64_t connection_;
  std::string inbox_prefix_;
  std::uint64_t inboxes_ = 0;
};

}  // namespace reliant
