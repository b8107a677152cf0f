// Simulated broker: route at publish time, then turn each delivery into a world event shaped
// by the network's latency, partitions and faults.
#include "sim/sim_bus.h"

#include <algorithm>

#include "base/digest.h"
#include "runtime/bus_request.h"
#include "runtime/subject.h"

namespace reliant::sim {
namespace {

class SimSubscription final : public Subscription {
 public:
  SimSubscription(std::shared_ptr<BusHandler> handler, std::function<void()> remove)
      : handler_(std::move(handler)), remove_(std::move(remove)) {}
  ~SimSubscription() override { remove_(); }

 private:
  std::shared_ptr<BusHandler> handler_;  // deliveries hold it weakly: gone = not delivered
  std::function<void()> remove_;
};

std::uint64_t message_digest(const BusMessage& m) {
  return digest64(m.data, digest64(std::string_view("\0", 1), digest64(m.subject)));
}

}  // namespace

SimBroker::SimBroker(World& world, Network& network)
    : world_(world), network_(network), random_(world.random().split("bus")) {}

SubscriptionTable::Id SimBroker::add(std::string pattern, std::string group, Receiver receiver) {
  const auto id = table_.add(std::move(pattern), std::move(group), receiver.connection);
  receivers_.emplace(id, std::move(receiver));
  return id;
}

void SimBroker::publish(NodeId from, std::uint64_t connection, BusMessage message) {
  ++stats_.published;
  const auto ids =
      table_.route(message.subject, [this](std::size_t n) { return random_.below(n); });
  if (ids.empty()) {
    if (message.reply_to.empty()) return;
    ++stats_.no_responders;
    BusMessage status{message.reply_to, "", "", true};  // to the requesting connection only
    for (const auto id : table_.route_to_connection(status.subject, connection)) {
      deliver(from, connection, receivers_.at(id), status);
    }
    return;
  }
  for (const auto id : ids) deliver(from, connection, receivers_.at(id), message);
}

void SimBroker::deliver(NodeId from, std::uint64_t connection, const Receiver& to,
                        const BusMessage& message) {
  const auto digest = message_digest(message);
  if (network_.blocked(from, to.node)) {
    ++stats_.partitioned;
    world_.trace().record(world_.now(), to.node, "bus.partitioned", digest);
    return;
  }
  const BusFaults& faults = network_.bus_faults();
  if (faults.outage) {
    ++stats_.in_outage;
    world_.trace().record(world_.now(), to.node, "bus.outage", digest);
    return;
  }
  if (random_.chance(faults.garbage)) {
    // What a buggy or hostile publisher could send on the subject: the receiver must drop it.
    ++stats_.garbage;
    std::string junk(random_.below(64), '\0');
    for (char& c : junk) c = static_cast<char>(random_.below(256));
    world_.schedule(world_.now() + network_.latency(random_), to.node, to.incarnation,
                    "bus.garbage", digest64(junk),
                    [handler = to.handler, junk = BusMessage{message.subject, "", junk, false}] {
                      if (auto h = handler.lock()) (*h)(junk);
                    });
  }
  if (random_.chance(faults.drop)) {
    ++stats_.dropped;
    world_.trace().record(world_.now(), to.node, "bus.dropped", digest);
    return;
  }
  int copies = 1;
  if (random_.chance(faults.duplicate)) {
    ++stats_.duplicated;
    copies = 2;
  }
  for (int copy = 0; copy < copies; ++copy) {
    Instant at = world_.now() + network_.latency(random_);
    if (random_.chance(faults.delay)) {
      ++stats_.delayed;
      at += random_.between(faults.delay_spike_min, faults.delay_spike_max);
    }
    auto& last = last_delivery_[{connection, to.connection}];
    if (random_.chance(faults.reorder)) {
      ++stats_.reordered;  // lands whenever it lands, possibly before earlier messages
    } else {
      at = std::max(at, last);
      last = at;
    }
    ++stats_.delivered;
    world_.schedule(at, to.node, to.incarnation, "bus.deliver", digest,
                    [handler = to.handler, message] {
                      if (auto h = handler.lock()) (*h)(message);
                    });
  }
}

SimBus::SimBus(SimBroker& broker, SimExecutor& executor)
    : broker_(broker), executor_(executor), connection_(++broker.connections_) {}

Result<void> SimBus::publish(std::string_view subject, std::string data,
                             std::string_view reply_to) {
  if (auto valid = validate_subject(subject); !valid) return valid;
  if (!reply_to.empty()) {
    if (auto valid = validate_subject(reply_to); !valid) return valid;
  }
  broker_.publish(executor_.node(), connection_,
                  BusMessage{std::string(subject), std::string(reply_to), std::move(data), false});
  return {};
}

Result<SubscriptionPtr> SimBus::subscribe(std::string_view pattern, BusHandler handler) {
  return add(pattern, {}, std::move(handler));
}

Result<SubscriptionPtr> SimBus::queue_subscribe(std::string_view pattern, std::string_view group,
                                                BusHandler handler) {
  if (group.empty()) return fail(ErrorCode::invalid_argument, "queue group name is empty");
  return add(pattern, group, std::move(handler));
}

Result<SubscriptionPtr> SimBus::add(std::string_view pattern, std::string_view group,
                                    BusHandler handler) {
  if (auto valid = validate_pattern(pattern); !valid) return fail(valid.error());
  auto shared = std::make_shared<BusHandler>(std::move(handler));
  const auto id = broker_.add(
      std::string(pattern), std::string(group),
      SimBroker::Receiver{executor_.node(), executor_.incarnation(), connection_, shared});
  auto* broker = &broker_;
  return SubscriptionPtr(
      std::make_unique<SimSubscription>(std::move(shared), [broker, id] { broker->remove(id); }));
}

Task<Result<BusMessage>> SimBus::request(std::string subject, std::string data, Duration timeout) {
  return request_over_inbox(*this, executor_, std::move(subject), std::move(data), timeout);
}

std::string SimBus::new_inbox() {
  return "_INBOX." + std::to_string(connection_) + "." + std::to_string(++inboxes_);
}

}  // namespace reliant::sim
