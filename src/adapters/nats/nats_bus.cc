// nats.c glue: status codes become Errors, messages are copied and posted to the executor.
#include "adapters/nats/nats_bus.h"

#include "runtime/future.h"

#include <nats/nats.h>

#include <mutex>
#include <set>

#include "runtime/bus_request.h"
#include "runtime/subject.h"

namespace reliant {
namespace {

std::string describe(natsStatus status) {
  const char* last = nats_GetLastError(nullptr);
  std::string text = natsStatus_GetText(status);
  if (last != nullptr && *last != '\0' && text != last) text += " (" + std::string(last) + ")";
  return text;
}

Error error_of(natsStatus status, const std::string& context) {
  ErrorCode code = ErrorCode::internal;
  switch (status) {
    case NATS_CONNECTION_CLOSED:
      code = ErrorCode::closed;
      break;
    case NATS_NO_SERVER:
    case NATS_NOT_YET_CONNECTED:
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_IO_ERROR:
      code = ErrorCode::unavailable;
      break;
    case NATS_MAX_PAYLOAD:
      code = ErrorCode::resource_exhausted;
      break;
    case NATS_TIMEOUT:
      code = ErrorCode::timeout;
      break;
    case NATS_INVALID_ARG:
    case NATS_INVALID_SUBJECT:
    case NATS_INVALID_QUEUE_NAME:
      code = ErrorCode::invalid_argument;
      break;
    default:
      break;
  }
  return Error{code, context + ": " + describe(status)};
}

// What a nats.c subscription's callbacks need; freed by nats.c's completion callback, after the
// last message callback of the subscription has run.
struct Delivery {
  Executor* executor;
  std::weak_ptr<BusHandler> handler;
  std::shared_ptr<NatsBus::Backlog> backlog;
  std::atomic<std::int64_t> entered{0};  // on_message calls begun, to compare with nats.c's count
};

void on_message(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  auto* delivery = static_cast<Delivery*>(closure);
  ++delivery->entered;
  const char* reply = natsMsg_GetReply(msg);
  BusMessage message{
      natsMsg_GetSubject(msg), reply ? reply : "",
      std::string(natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg))),
      natsMsg_IsNoResponders(msg)};
  natsMsg_Destroy(msg);
  ++delivery->backlog->posted;
  delivery->executor->post(
      [handler = delivery->handler, backlog = delivery->backlog, message = std::move(message)] {
        if (auto h = handler.lock()) (*h)(message);
        --backlog->posted;
      });
}

void on_complete(void* closure) { delete static_cast<Delivery*>(closure); }

class NatsSubscription final : public Subscription {
 public:
  NatsSubscription(natsSubscription* subscription, std::shared_ptr<BusHandler> handler,
                   std::shared_ptr<NatsBus::Backlog> backlog,
                   const std::atomic<std::int64_t>* entered)
      : subscription_(subscription), handler_(std::move(handler)), backlog_(std::move(backlog)) {
    std::lock_guard lock(backlog_->mutex);
    backlog_->subscriptions.emplace(subscription_, entered);
  }
  ~NatsSubscription() override {
    {
      std::lock_guard lock(backlog_->mutex);
      backlog_->subscriptions.erase(subscription_);
    }
    natsSubscription_Unsubscribe(subscription_);
    natsSubscription_Destroy(subscription_);
  }

 private:
  natsSubscription* subscription_;
  std::shared_ptr<BusHandler> handler_;  // deliveries hold it weakly: gone = not delivered
  std::shared_ptr<NatsBus::Backlog> backlog_;
};

std::once_flag library_opened;

}  // namespace

Result<std::unique_ptr<NatsBus>> NatsBus::connect(Executor& executor, const NatsOptions& options) {
  std::call_once(library_opened, [] { nats_Open(-1); });
  if (options.url.empty())
    return fail(ErrorCode::invalid_argument, "--nats-url (or NATS_URL) is empty");
  natsOptions* opts = nullptr;
  if (auto s = natsOptions_Create(&opts); s != NATS_OK) return fail(error_of(s, "nats options"));
  struct Free {
    natsOptions* o;
    ~Free() { natsOptions_Destroy(o); }
  } free_options{opts};
  natsStatus s = natsOptions_SetURL(opts, options.url.c_str());
  if (s != NATS_OK)
    return fail(ErrorCode::invalid_argument,
                "invalid NATS URL '" + options.url + "': " + describe(s));
  natsOptions_SetName(opts, options.name.c_str());
  // Send at once instead of from a flusher thread: measured here, a request-reply drops from a
  // p50 of 990 µs to 210 µs (DESIGN.md §9).
  natsOptions_SetSendAsap(opts, true);
  natsOptions_SetAllowReconnect(opts, true);
  natsOptions_SetMaxReconnect(opts, options.max_reconnects);
  natsOptions_SetReconnectWait(opts, to_ms(options.reconnect_wait));
  natsConnection* connection = nullptr;
  // The callbacks need the NatsBus, which needs the connection: they get a slot filled below.
  // Callbacks run on nats.c's threads: the slot is atomic, cleared by ~NatsBus before it closes
  // the connection, and freed by the closed callback, the last one nats.c makes.
  auto* slot = new std::atomic<NatsBus*>(nullptr);
  natsOptions_SetDisconnectedCB(
      opts,
      [](natsConnection* nc, void* p) {
        if (auto* bus = static_cast<std::atomic<NatsBus*>*>(p)->load()) on_disconnected(nc, bus);
      },
      slot);
  natsOptions_SetReconnectedCB(
      opts,
      [](natsConnection* nc, void* p) {
        if (auto* bus = static_cast<std::atomic<NatsBus*>*>(p)->load()) on_reconnected(nc, bus);
      },
      slot);
  natsOptions_SetClosedCB(
      opts, [](natsConnection*, void* p) { delete static_cast<std::atomic<NatsBus*>*>(p); }, slot);
  s = natsConnection_Connect(&connection, opts);
  if (s != NATS_OK) {
    delete slot;
    const ErrorCode code =
        s == NATS_NO_SERVER ? ErrorCode::unavailable : ErrorCode::invalid_argument;
    return fail(code, "cannot connect to NATS at " + options.url + ": " + describe(s));
  }
  natsInbox* inbox = nullptr;
  natsInbox_Create(&inbox);
  std::string prefix = std::string(inbox) + ".";
  natsInbox_Destroy(inbox);
  std::unique_ptr<NatsBus> bus(new NatsBus(executor, connection, std::move(prefix), slot));
  slot->store(bus.get());
  return bus;
}

NatsBus::NatsBus(Executor& executor, natsConnection* connection, std::string inbox_prefix,
                 std::atomic<NatsBus*>* callback_slot)
    : executor_(executor),
      connection_(connection),
      inbox_prefix_(std::move(inbox_prefix)),
      callback_slot_(callback_slot) {}

NatsBus::~NatsBus() {
  inbox_subscription_.reset();  // before the connection it belongs to
  callback_slot_->store(nullptr);
  natsConnection_Close(connection_);
  natsConnection_Destroy(connection_);
}

void NatsBus::on_disconnected(natsConnection*, void* self) {
  static_cast<NatsBus*>(self)->connected_ = false;
}
void NatsBus::on_reconnected(natsConnection*, void* self) {
  static_cast<NatsBus*>(self)->connected_ = true;
}

Result<void> NatsBus::publish(std::string_view subject, std::string data,
                              std::string_view reply_to) {
  if (auto valid = validate_subject(subject); !valid) return valid;
  const std::string subj(subject);
  natsStatus s = NATS_OK;
  if (reply_to.empty()) {
    s = natsConnection_Publish(connection_, subj.c_str(), data.data(),
                               static_cast<int>(data.size()));
  } else {
    if (auto valid = validate_subject(reply_to); !valid) return valid;
    const std::string reply(reply_to);
    s = natsConnection_PublishRequest(connection_, subj.c_str(), reply.c_str(), data.data(),
                                      static_cast<int>(data.size()));
  }
  if (s != NATS_OK) return fail(error_of(s, "publish to " + subj));
  return {};
}

Result<SubscriptionPtr> NatsBus::subscribe(std::string_view pattern, BusHandler handler) {
  return add(pattern, {}, std::move(handler));
}

Result<SubscriptionPtr> NatsBus::queue_subscribe(std::string_view pattern, std::string_view group,
                                                 BusHandler handler) {
  if (group.empty()) return fail(ErrorCode::invalid_argument, "queue group name is empty");
  return add(pattern, group, std::move(handler));
}

Result<SubscriptionPtr> NatsBus::add(std::string_view pattern, std::string_view group,
                                     BusHandler handler) {
  if (auto valid = validate_pattern(pattern); !valid) return fail(valid.error());
  auto shared = std::make_shared<BusHandler>(std::move(handler));
  auto* delivery = new Delivery{&executor_, shared, backlog_};
  const std::string subj(pattern);
  natsSubscription* subscription = nullptr;
  natsStatus s =
      group.empty()
          ? natsConnection_Subscribe(&subscription, connection_, subj.c_str(), on_message, delivery)
          : natsConnection_QueueSubscribe(&subscription, connection_, subj.c_str(),
                                          std::string(group).c_str(), on_message, delivery);
  if (s != NATS_OK) {
    delete delivery;
    return fail(error_of(s, "subscribe to " + subj));
  }
  natsSubscription_SetOnCompleteCB(subscription, on_complete, delivery);
  // NATS orders commands per connection only: until the server has seen this SUB, a publish from
  // another connection would miss it. Wait for that one round trip, so that — as on every Bus —
  // a subscription is active when subscribe() returns. While disconnected the SUB is replayed on
  // reconnect, so a failed flush is not an error.
  (void)natsConnection_FlushTimeout(connection_, 2000);
  return SubscriptionPtr(std::make_unique<NatsSubscription>(subscription, std::move(shared),
                                                            backlog_, &delivery->entered));
}

Task<Result<BusMessage>> NatsBus::request(std::string subject, std::string data, Duration timeout) {
  // One wildcard subscription on this connection's inbox prefix serves every request: a
  // subscription per request would cost a server round trip (the flush that makes it active)
  // and a nats.c delivery thread each time — about a millisecond per request, measured.
  if (!inbox_subscription_) {
    auto waiting = waiting_;
    auto subscribed = subscribe(inbox_prefix_ + "*", [waiting](const BusMessage& reply) {
      const auto it = waiting->find(reply.subject);
      if (it == waiting->end()) return;  // late: the request timed out
      Promise<Result<BusMessage>> promise = std::move(it->second);
      waiting->erase(it);
      if (reply.no_responders) {
        promise.set(fail(ErrorCode::no_responders, "no responders"));
      } else {
        promise.set(reply);
      }
    });
    if (!subscribed) co_return fail(subscribed.error());
    inbox_subscription_ = std::move(*subscribed);
  }
  const std::string inbox = new_inbox();
  auto [promise, future] = make_promise<Result<BusMessage>>(executor_);
  (*waiting_)[inbox] = promise;
  // Whatever ends the wait (reply, timeout, or this frame being destroyed) forgets the inbox.
  struct Forget {
    std::shared_ptr<std::map<std::string, Promise<Result<BusMessage>>>> waiting;
    std::string inbox;
    ~Forget() { waiting->erase(inbox); }
  } forget{waiting_, inbox};
  ScopedTimer timer(executor_, executor_.after(timeout, [promise = promise, subject, timeout] {
    promise.set(
        fail(ErrorCode::timeout, "no reply on " + subject + " within " + format_duration(timeout)));
  }));
  if (auto published = publish(subject, std::move(data), inbox); !published) {
    co_return fail(published.error());
  }
  Result<BusMessage> reply = co_await future;
  if (!reply && reply.error().code == ErrorCode::no_responders) {
    co_return fail(ErrorCode::no_responders, "no responders on " + subject);
  }
  co_return reply;
}

std::string NatsBus::new_inbox() { return inbox_prefix_ + std::to_string(++inboxes_); }

std::int64_t NatsBus::undelivered() const {
  // nats.c moves a message from pending to delivered (under its lock) just before calling
  // on_message; until on_message has counted it in `entered`, only that difference shows it.
  std::int64_t count = 0;
  std::lock_guard lock(backlog_->mutex);
  for (const auto& [subscription, entered] : backlog_->subscriptions) {
    int msgs = 0;
    int bytes = 0;
    std::int64_t delivered = 0;
    if (natsSubscription_GetPending(subscription, &msgs, &bytes) == NATS_OK) count += msgs;
    if (natsSubscription_GetDelivered(subscription, &delivered) == NATS_OK) {
      count += delivered - entered->load();
    }
  }
  return count + backlog_->posted.load();
}

Result<void> NatsBus::flush(Duration timeout) {
  if (auto s = natsConnection_FlushTimeout(connection_, to_ms(timeout)); s != NATS_OK) {
    return fail(error_of(s, "flush"));
  }
  return {};
}

}  // namespace reliant
