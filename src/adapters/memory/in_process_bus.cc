// In-process broker: route under a lock, deliver by posting to each subscriber's executor.
#include "adapters/memory/in_process_bus.h"

#include <vector>

#include "runtime/bus_request.h"
#include "runtime/subject.h"

namespace reliant {
namespace {

class InProcessSubscription final : public Subscription {
 public:
  InProcessSubscription(std::shared_ptr<BusHandler> handler, std::function<void()> remove)
      : handler_(std::move(handler)), remove_(std::move(remove)) {}
  ~InProcessSubscription() override { remove_(); }

 private:
  std::shared_ptr<BusHandler> handler_;  // deliveries hold it weakly: gone = not delivered
  std::function<void()> remove_;
};

}  // namespace

InProcessBroker::InProcessBroker(std::uint64_t seed) : random_(seed) {}

SubscriptionTable::Id InProcessBroker::add(std::string pattern, std::string group,
                                           std::uint64_t connection, Receiver receiver) {
  std::lock_guard lock(mutex_);
  const auto id = table_.add(std::move(pattern), std::move(group), connection);
  receivers_.emplace(id, std::move(receiver));
  return id;
}

void InProcessBroker::remove(SubscriptionTable::Id id) {
  std::lock_guard lock(mutex_);
  table_.remove(id);
  receivers_.erase(id);
}

std::uint64_t InProcessBroker::next_connection_id() {
  std::lock_guard lock(mutex_);
  return ++connections_;
}

void InProcessBroker::publish(std::uint64_t connection, BusMessage message) {
  std::vector<Receiver> targets;
  {
    std::lock_guard lock(mutex_);
    const auto ids =
        table_.route(message.subject, [this](std::size_t n) { return random_.below(n); });
    for (const auto id : ids) targets.push_back(receivers_.at(id));
    if (targets.empty() && !message.reply_to.empty()) {
      // NATS answers a request nobody can serve with a 503 status on the reply subject, sent
      // to the requesting connection only.
      BusMessage status{message.reply_to, "", "", true};
      for (const auto id : table_.route_to_connection(status.subject, connection)) {
        const auto& r = receivers_.at(id);
        r.executor->post([handler = r.handler, status] {
          if (auto h = handler.lock()) (*h)(status);
        });
      }
      return;
    }
  }
  for (auto& target : targets) {
    target.executor->post([handler = std::move(target.handler), message] {
      if (auto h = handler.lock()) (*h)(message);
    });
  }
}

InProcessBus::InProcessBus(InProcessBroker& broker, Executor& executor)
    : broker_(broker),
      executor_(executor),
      connection_(broker.next_connection_id()),
      inbox_prefix_("_INBOX." + std::to_string(connection_) + ".") {}

Result<void> InProcessBus::publish(std::string_view subject, std::string data,
                                   std::string_view reply_to) {
  if (auto valid = validate_subject(subject); !valid) return valid;
  if (!reply_to.empty()) {
    if (auto valid = validate_subject(reply_to); !valid) return valid;
  }
  broker_.publish(connection_,
                  BusMessage{std::string(subject), std::string(reply_to), std::move(data), false});
  return {};
}

Result<SubscriptionPtr> InProcessBus::subscribe(std::string_view pattern, BusHandler handler) {
  return add(pattern, {}, std::move(handler));
}

Result<SubscriptionPtr> InProcessBus::queue_subscribe(std::string_view pattern,
                                                      std::string_view group, BusHandler handler) {
  if (group.empty()) return fail(ErrorCode::invalid_argument, "queue group name is empty");
  return add(pattern, group, std::move(handler));
}

Result<SubscriptionPtr> InProcessBus::add(std::string_view pattern, std::string_view group,
                                          BusHandler handler) {
  if (auto valid = validate_pattern(pattern); !valid) return fail(valid.error());
  auto shared = std::make_shared<BusHandler>(std::move(handler));
  const auto id = broker_.add(std::string(pattern), std::string(group), connection_,
                              InProcessBroker::Receiver{&executor_, shared});
  auto* broker = &broker_;
  return SubscriptionPtr(std::make_unique<InProcessSubscription>(
      std::move(shared), [broker, id] { broker->remove(id); }));
}

Task<Result<BusMessage>> InProcessBus::request(std::string subject, std::string data,
                                               Duration timeout) {
  return request_over_inbox(*this, executor_, std::move(subject), std::move(data), timeout);
}

std::string InProcessBus::new_inbox() { return inbox_prefix_ + std::to_string(++inboxes_); }

}  // namespace reliant
