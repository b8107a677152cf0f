// The simulated bus: NATS core semantics (shared SubscriptionTable) with latency, partitions
// and message faults (drop, duplicate, delay, reorder) from the Network.
//
// SimBroker is the world's nats-server; each SimBus is one process incarnation's connection.
// Deliveries are world events for the subscriber's incarnation, so a crashed subscriber never
// runs a handler.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "runtime/bus.h"
#include "runtime/subscription_table.h"
#include "sim/network.h"
#include "sim/sim_executor.h"

namespace reliant::sim {

struct BusStats {
  std::uint64_t published = 0;
  std::uint64_t delivered = 0;
  std::uint64_t dropped = 0;      // by a drop fault
  std::uint64_t partitioned = 0;  // lost to a partition
  std::uint64_t duplicated = 0;
  std::uint64_t delayed = 0;
  std::uint64_t reordered = 0;
  std::uint64_t no_responders = 0;
  std::uint64_t garbage = 0;    // garbage payloads delivered
  std::uint64_t in_outage = 0;  // lost while the broker was down
};

class SimBroker {
 public:
  SimBroker(World& world, Network& network);
  const BusStats& stats() const { return stats_; }

 private:
  friend class SimBus;
  struct Receiver {
    NodeId node;
    std::uint64_t incarnation;
    std::uint64_t connection;
    std::weak_ptr<BusHandler> handler;
  };

  SubscriptionTable::Id add(std::string pattern, std::string group, Receiver receiver);
  void remove(SubscriptionTable::Id id) {
    table_.remove(id);
    receivers_.erase(id);
  }
  void publish(NodeId from, std::uint64_t connection, BusMessage message);
  void deliver(NodeId from, std::uint64_t connection, const Receiver& to,
               const BusMessage& message);

  World& world_;
  Network& network_;
  Random random_;
  SubscriptionTable table_;
  std::map<SubscriptionTable::Id, Receiver> receivers_;
  // Per (publisher connection, subscriber connection): when the last delivery lands, so that
  // deliveries keep publish order unless a reorder fault says otherwise.
  std::map<std::pair<std::uint64_t, std::uint64_t>, Instant> last_delivery_;
  std::uint64_t connections_ = 0;
  BusStats stats_;
};

class SimBus final : public Bus {
 public:
  SimBus(SimBroker& broker, SimExecutor& executor);

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

  SimBroker& broker_;
  SimExecutor& executor_;
  std::uint64_t connection_;
  std::uint64_t inboxes_ = 0;
};

}  // namespace reliant::sim
