// nats.c glue in its event-loop mode: the executor watches nats.c's socket, reads it, and hands
// what the subscriptions queued to their handlers; status codes become Errors.
#include "adapters/nats/nats_bus.h"

#include "runtime/future.h"

#include <nats/nats.h>

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio/posix/stream_descriptor.hpp>

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

BusMessage to_bus_message(natsMsg* msg) {
  const char* reply = natsMsg_GetReply(msg);
  return BusMessage{
      natsMsg_GetSubject(msg), reply ? reply : "",
      std::string(natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg))),
      natsMsg_IsNoResponders(msg)};
}

// Whether `fd` has something to read now (or an error to report).
bool readable_now(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) > 0;
}

std::once_flag library_opened;

}  // namespace

// nats.c's socket as the executor watches it, in nats.c's event-loop mode. nats.c calls
// attach/read/write/detach from whichever thread it is on (the executor's, or its reconnect and
// ping threads); those calls touch only atomics and post the rest to the executor, which alone
// owns the descriptor. The descriptor is a dup of nats.c's socket: when nats.c closes its own
// (to reconnect), ours still names the same socket until the executor lets it go, so the
// executor can never unregister a descriptor number that something else has reused meanwhile.
struct NatsSocket : std::enable_shared_from_this<NatsSocket> {
  explicit NatsSocket(AsioExecutor& e) : executor(e) {}

  AsioExecutor& executor;
  std::atomic<natsConnection*> connection{nullptr};
  std::atomic<int> fd{-1};  // nats.c's own descriptor, for flush() to wait on
  std::atomic<bool> write_wanted{false};
  std::atomic<bool> write_posted{false};
  // One ProcessRead/WriteEvent at a time: the executor's, or a flush() on another thread.
  std::mutex io;
  // Executor thread only.
  NatsBus* bus = nullptr;  // cleared by ~NatsBus
  bool closed = false;     // set by ~NatsBus: a watch posted before then is stale
  std::optional<boost::asio::posix::stream_descriptor> watched;
  std::uint64_t generation = 0;  // of `watched`: completions of an older one are ignored
  bool read_waiting = false;
  bool write_waiting = false;

  void watch(int nats_fd) {
    unwatch();
    if (closed) return;
    const int own = ::dup(nats_fd);
    if (own < 0) return;  // nats.c closed it already; its next attach brings the new one
    watched.emplace(executor.context(), own);
    read_turn();  // what arrived before the watch began
    write_turn();
  }
  void unwatch() {
    ++generation;
    watched.reset();  // cancels the waits and closes our dup
    read_waiting = write_waiting = false;
  }
  void read_turn() {
    if (!watched) return;
    if (natsConnection* nc = connection.load()) {
      std::lock_guard lock(io);
      natsConnection_ProcessReadEvent(nc);
    }
    if (bus != nullptr) bus->deliver();  // may destroy the bus, and unwatch
    if (!watched) return;
    // nats.c reads one buffer per event and asio's epoll is edge-triggered: what is left in the
    // socket would raise no new event. Read it from a fresh turn, so other work interleaves.
    if (readable_now(watched->native_handle())) {
      executor.post([self = shared_from_this(), g = generation] {
        if (g == self->generation) self->read_turn();
      });
      return;
    }
    wait_then(boost::asio::posix::descriptor_base::wait_read, read_waiting, &NatsSocket::read_turn);
  }
  // Runs `turn` once the watched socket is ready for `what`; one wait of each kind at a time,
  // and none survives an unwatch.
  void wait_then(boost::asio::posix::descriptor_base::wait_type what, bool& waiting,
                 void (NatsSocket::*turn)()) {
    if (waiting) return;
    waiting = true;
    watched->async_wait(what, [self = shared_from_this(), g = generation, &waiting,
                               turn](const boost::system::error_code& e) {
      if (g != self->generation) return;
      waiting = false;
      if (!e) ((*self).*turn)();
    });
  }
  // Writes what nats.c holds; from any thread. The check is under the lock: nats.c withdraws its
  // write interest once it has written everything, and given an empty buffer it sends zero bytes,
  // takes the 0 for a closed connection and reconnects, losing what was in flight. Checked before
  // the lock, a publish on the executor and the flush helper's write could both see the interest
  // and the second write nothing (the bus contract lost replies so under ThreadSanitizer in CI).
  void write_now() {
    std::lock_guard lock(io);
    if (!write_wanted.load()) return;
    if (natsConnection* nc = connection.load()) natsConnection_ProcessWriteEvent(nc);
  }
  void write_turn() {
    write_posted = false;
    write_now();
    if (!write_wanted.load() || !watched) return;
    // The socket's buffer is full: go on when it has room.
    wait_then(boost::asio::posix::descriptor_base::wait_write, write_waiting,
              &NatsSocket::write_turn);
  }
  void post_deliver() {
    executor.post([self = shared_from_this()] {
      if (self->bus != nullptr) self->bus->deliver();
    });
  }
  void post_write_turn() {
    if (write_posted.exchange(true)) return;
    executor.post([self = shared_from_this()] { self->write_turn(); });
  }

  // The reads and writes a flush() waits for, on a helper thread: started on the first flush,
  // asleep between flushes, stopped by ~NatsBus. It sleeps in poll() on the socket and on
  // `helper_poke`, which nats.c's write requests ring while a flush is on (the PING a flush
  // sends is one).
  void begin_flush() {
    std::lock_guard lock(helper_mutex);
    ++flushing;
    if (!helper.joinable()) helper = std::thread([this] { help_flushes(); });
    helper_wake.notify_one();
  }
  void end_flush() { --flushing; }
  void poke_helper() {
    const std::uint64_t one = 1;
    (void)!::write(helper_poke, &one, sizeof one);
  }
  void stop_helper() {
    {
      std::lock_guard lock(helper_mutex);
      stopping = true;
      helper_wake.notify_one();
    }
    poke_helper();
    if (helper.joinable()) helper.join();
  }
  void help_flushes() {
    std::unique_lock lock(helper_mutex);
    for (;;) {
      helper_wake.wait(lock, [this] { return flushing > 0 || stopping; });
      if (stopping) return;
      lock.unlock();
      write_now();
      const int nats_fd = fd.load();
      pollfd polled[2] = {{helper_poke, POLLIN, 0}, {nats_fd, POLLIN, 0}};
      // Reconnecting (no socket): the poke or the timeout brings the next look.
      if (::poll(polled, nats_fd < 0 ? 1 : 2, 5) > 0) {
        if (polled[0].revents != 0) {
          std::uint64_t count = 0;
          (void)!::read(helper_poke, &count, sizeof count);
        }
        if (nats_fd >= 0 && polled[1].revents != 0) {
          {
            std::lock_guard io_lock(io);
            if (natsConnection* nc = connection.load()) natsConnection_ProcessReadEvent(nc);
          }
          // What this read brought is the subscriptions' (the executor's own read may find the
          // socket empty now).
          post_deliver();
        }
      }
      lock.lock();
    }
  }

  std::mutex helper_mutex;
  std::condition_variable helper_wake;
  std::atomic<int> flushing{0};
  bool stopping = false;
  const int helper_poke = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  std::thread helper;

  ~NatsSocket() { ::close(helper_poke); }
};

namespace {

class NatsSubscription final : public Subscription {
 public:
  NatsSubscription(natsSubscription* subscription, std::string pattern,
                   std::shared_ptr<BusHandler> handler, std::shared_ptr<NatsBus::Registry> registry,
                   std::shared_ptr<NatsSocket> socket, const bool* waiting)
      : subscription_(subscription),
        handler_(std::move(handler)),
        registry_(std::move(registry)),
        socket_(std::move(socket)) {
    std::lock_guard lock(registry_->mutex);
    registry_->subscriptions.emplace(
        subscription_, NatsBus::Registry::Entry{handler_, std::move(pattern), waiting});
  }
  ~NatsSubscription() override {
    {
      std::lock_guard lock(registry_->mutex);
      registry_->subscriptions.erase(subscription_);
    }
    // nats.c's read looks a message's subscription up and then uses it without holding a
    // reference: freeing it during a read (the flush helper's, on another thread) is a
    // use-after-free. Reads hold the socket's lock, so this waits for the one under way.
    std::lock_guard io(socket_->io);
    natsSubscription_Unsubscribe(subscription_);
    natsSubscription_Destroy(subscription_);
  }

 private:
  natsSubscription* subscription_;
  std::shared_ptr<BusHandler> handler_;  // deliveries hold it weakly: gone = not delivered
  std::shared_ptr<NatsBus::Registry> registry_;
  std::shared_ptr<NatsSocket> socket_;
};

// nats.c's event-loop callbacks. `loop` is the connection's NatsSocket, which outlives them.
natsStatus on_attach(void** user_data, void* loop, natsConnection* nc, natsSock nats_fd) {
  auto* socket = static_cast<NatsSocket*>(loop);
  *user_data = socket;
  socket->connection = nc;
  socket->fd = nats_fd;
  socket->executor.post([self = socket->shared_from_this(), nats_fd] { self->watch(nats_fd); });
  return NATS_OK;
}

natsStatus on_read_interest(void* user_data, bool add) {
  // nats.c asks to stop reading before it closes the socket to reconnect (and never asks to
  // start again: attach does).
  if (!add) {
    auto* socket = static_cast<NatsSocket*>(user_data);
    socket->fd = -1;
    socket->executor.post([self = socket->shared_from_this()] { self->unwatch(); });
  }
  return NATS_OK;
}

natsStatus on_write_interest(void* user_data, bool add) {
  // Called with nats.c's connection lock held: only flag, and post.
  auto* socket = static_cast<NatsSocket*>(user_data);
  socket->write_wanted = add;
  if (add) {
    socket->post_write_turn();
    if (socket->flushing.load() > 0) socket->poke_helper();
  }
  return NATS_OK;
}

natsStatus on_detach(void* user_data) {
  auto* socket = static_cast<NatsSocket*>(user_data);
  socket->fd = -1;
  socket->executor.post([self = socket->shared_from_this()] { self->unwatch(); });
  return NATS_OK;
}

}  // namespace

Result<std::unique_ptr<NatsBus>> NatsBus::connect(AsioExecutor& executor,
                                                  const NatsOptions& options) {
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
  // p50 of 990 µs to 210 µs (docs/architecture.md §11). In the event-loop mode this asks for a
  // write right away, which publish() makes.
  natsOptions_SetSendAsap(opts, true);
  auto socket = std::make_shared<NatsSocket>(executor);
  natsOptions_SetEventLoop(opts, socket.get(), on_attach, on_read_interest, on_write_interest,
                           on_detach);
  natsOptions_SetAllowReconnect(opts, true);
  natsOptions_SetMaxReconnect(opts, options.reconnects_max);
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
  std::unique_ptr<NatsBus> bus(
      new NatsBus(executor, connection, std::move(prefix), std::move(socket), slot));
  slot->store(bus.get());
  return bus;
}

NatsBus::NatsBus(AsioExecutor& executor, natsConnection* connection, std::string inbox_prefix,
                 std::shared_ptr<NatsSocket> socket, std::atomic<NatsBus*>* callback_slot)
    : executor_(executor),
      connection_(connection),
      socket_(std::move(socket)),
      inbox_prefix_(std::move(inbox_prefix)),
      callback_slot_(callback_slot) {
  socket_->bus = this;
  natsStatistics_Create(&stats_);
}

NatsBus::~NatsBus() {
  // Their subscriptions are the connection's: unsubscribed while it is still there.
  idle_reply_slots_.clear();
  callback_slot_->store(nullptr);
  socket_->bus = nullptr;
  // Closing flushes what nats.c still holds (unsubscriptions, say) and waits for the server's
  // PONG: the helper does the writing and reading, as in flush().
  socket_->begin_flush();
  natsConnection_Close(connection_);
  socket_->end_flush();
  socket_->stop_helper();
  destroy_retired();
  natsConnection_Destroy(connection_);
  natsStatistics_Destroy(stats_);
  socket_->connection = nullptr;
  socket_->closed = true;
  socket_->unwatch();  // nats.c's detach only posted it
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
  socket_->write_now();  // on the wire before returning, like nats.c's own send-asap mode
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
                                     BusHandler handler, const bool* reply_slot_waiting) {
  if (auto valid = validate_pattern(pattern); !valid) return fail(valid.error());
  const std::string subj(pattern);
  natsSubscription* subscription = nullptr;
  // Synchronous subscriptions: nats.c queues their messages, and deliver() takes them on the
  // executor's thread — an asynchronous one would get a delivery thread of its own.
  natsStatus s = group.empty()
                     ? natsConnection_SubscribeSync(&subscription, connection_, subj.c_str())
                     : natsConnection_QueueSubscribeSync(&subscription, connection_, subj.c_str(),
                                                         std::string(group).c_str());
  if (s != NATS_OK) return fail(error_of(s, "subscribe to " + subj));
  // NATS orders commands per connection only: until the server has seen this SUB, a publish from
  // another connection would miss it. Wait for that one round trip, so that — as on every Bus —
  // a subscription is active when subscribe() returns. While disconnected the SUB is replayed on
  // reconnect, so there is nothing to wait for then (the flush would hold the executor for its
  // whole timeout), and a failed flush is not an error. Connected, the wait is bounded
  // generously: with 2 s, the bus contract once lost a message to a new queue subscription
  // under ThreadSanitizer on a loaded 2-core machine, where a round trip can take that long.
  auto subscribed = SubscriptionPtr(std::make_unique<NatsSubscription>(
      subscription, subj, std::make_shared<BusHandler>(std::move(handler)), registry_, socket_,
      reply_slot_waiting));
  if (reply_slot_waiting == nullptr && connected_.load()) {
    (void)flush(seconds(10));
  }
  return subscribed;
}

Task<Result<BusMessage>> NatsBus::request(std::string subject, std::string data, Duration timeout) {
  auto slot = take_reply_slot();
  if (!slot) co_return fail(slot.error());
  ReplySlot& waiting = **slot;
  waiting.expected = waiting.prefix + std::to_string(++inboxes_);
  waiting.subject = subject;
  auto [promise, future] = make_promise<Result<BusMessage>>(executor_);
  waiting.promise = promise;
  waiting.waiting = true;
  ScopedTimer timer(executor_, executor_.after(timeout, [promise = promise, subject, timeout] {
    promise.set(
        fail(ErrorCode::timeout, "no reply on " + subject + " within " + format_duration(timeout)));
  }));
  if (auto published = publish(subject, std::move(data), waiting.expected); !published) {
    co_return fail(published.error());  // the slot goes with this frame: nothing will come to it
  }
  Result<BusMessage> reply = co_await future;
  waiting.waiting = false;
  waiting.promise.reset();
  // Answered (a reply, or the server's word that nobody listens): nothing more can come for
  // this request but a second responder's reply, which its subject tells apart. Kept.
  const bool answered = reply || reply.error().code == ErrorCode::no_responders;
  if (answered && idle_reply_slots_.size() < kIdleReplySlotsMax) {
    idle_reply_slots_.push_back(std::move(*slot));
  }
  co_return reply;
}

Result<std::shared_ptr<NatsBus::ReplySlot>> NatsBus::take_reply_slot() {
  if (!idle_reply_slots_.empty()) {
    auto slot = std::move(idle_reply_slots_.back());
    idle_reply_slots_.pop_back();
    return slot;
  }
  // Synchronous (no nats.c thread, see add()); active at once: the server reads this
  // connection's SUB before the request that follows it, so before any reply.
  auto slot = std::make_shared<ReplySlot>();
  slot->prefix = new_inbox() + ".";
  std::weak_ptr<ReplySlot> weak = slot;
  auto subscribed = add(
      slot->prefix + "*", {},
      [weak](const BusMessage& reply) {
        const auto slot = weak.lock();
        if (!slot || !slot->waiting || !slot->promise) return;
        if (reply.no_responders) {
          slot->promise->set(fail(ErrorCode::no_responders, "no responders on " + slot->subject));
        } else if (reply.subject == slot->expected) {
          slot->promise->set(reply);
        }
      },
      &slot->waiting);
  if (!subscribed) return fail(subscribed.error());
  slot->subscription = std::move(*subscribed);
  return slot;
}

std::string NatsBus::new_inbox() { return inbox_prefix_ + std::to_string(++inboxes_); }

std::int64_t NatsBus::undelivered() const {
  std::int64_t count = 0;
  std::lock_guard lock(registry_->mutex);
  for (const auto& [subscription, handler] : registry_->subscriptions) {
    int msgs = 0;
    int bytes = 0;
    if (natsSubscription_GetPending(subscription, &msgs, &bytes) == NATS_OK) count += msgs;
  }
  return count;
}

std::optional<NatsBus::MessageCounts> NatsBus::count_messages(natsStatistics* stats) const {
  MessageCounts out;
  std::lock_guard io(socket_->io);
  if (natsConnection_GetStats(connection_, stats) != NATS_OK ||
      natsStatistics_GetCounts(stats, &out.received, nullptr, &out.sent, nullptr,
                               &out.reconnects) != NATS_OK) {
    return std::nullopt;
  }
  return out;
}

NatsBus::MessageCounts NatsBus::counts() const {
  // A statistics object of its own: `stats_` is the executor's, and this runs on any thread.
  natsStatistics* stats = nullptr;
  if (natsStatistics_Create(&stats) != NATS_OK) return {};
  const MessageCounts out = count_messages(stats).value_or(MessageCounts{});
  natsStatistics_Destroy(stats);
  return out;
}

void NatsBus::deliver() {
  // A read that brought no message (a PONG, a PING, part of a frame) costs nothing. Otherwise the
  // scan over the subscriptions stops once it has taken as many messages as the connection
  // received since the last time; nats.c's synchronous subscriptions say which of them hold
  // messages only when asked, one by one. (A message that never reaches a queue — its
  // subscription just went — makes that one scan complete, which then brings the counts level.)
  const std::optional<MessageCounts> now = count_messages(stats_);
  if (now && now->received <= taken_) return;
  const std::uint64_t wanted = now ? now->received - taken_ : UINT64_MAX;
  // Everything first, then the handlers: a handler may subscribe, unsubscribe or destroy the bus.
  std::vector<std::pair<std::weak_ptr<BusHandler>, BusMessage>> batch;
  {
    std::lock_guard lock(registry_->mutex);
    for (const auto& [subscription, entry] : registry_->subscriptions) {
      if (batch.size() >= wanted) break;
      int msgs = 0;
      int bytes = 0;
      if (natsSubscription_GetPending(subscription, &msgs, &bytes) != NATS_OK) continue;
      for (; msgs > 0; --msgs) {
        natsMsg* msg = nullptr;
        const natsStatus s = natsSubscription_NextMsg(&msg, subscription, 0);
        if (s == NATS_NO_RESPONDERS) {
          // nats.c consumes the server's status and says only this. The server sends it to the
          // first subscription of this connection that matches the request's inbox — which may
          // be a wildcard one (`>`, `*.>`) rather than the request's own. Then it goes to the one
          // request whose inbox that pattern matches; with several, which one it was for cannot
          // be told, and no handler gets a status that was not meant for it.
          if (entry.waiting != nullptr) {
            batch.emplace_back(entry.handler, BusMessage{entry.pattern, "", "", true});
          } else if (const Registry::Entry* request = sole_inbox_matching(entry.pattern)) {
            batch.emplace_back(request->handler, BusMessage{request->pattern, "", "", true});
          }
          continue;
        }
        if (s != NATS_OK) break;
        batch.emplace_back(entry.handler, to_bus_message(msg));
        retire(msg);
      }
    }
  }
  taken_ += batch.size();
  if (now && batch.size() < wanted) taken_ = std::max(taken_, now->received);  // never queued
  for (auto& [handler, message] : batch) {
    if (auto h = handler.lock()) (*h)(message);
  }
}

const NatsBus::Registry::Entry* NatsBus::sole_inbox_matching(const std::string& pattern) const {
  const Registry::Entry* found = nullptr;
  for (const auto& [subscription, entry] : registry_->subscriptions) {
    if (entry.waiting == nullptr || !*entry.waiting || !subject_matches(pattern, entry.pattern)) {
      continue;
    }
    if (found != nullptr) return nullptr;
    found = &entry;
  }
  return found;
}

void NatsBus::retire(natsMsg* message) {
  retired_.push_back(message);
  retired_bytes_ += static_cast<std::size_t>(natsMsg_GetDataLength(message));
  if (retired_.size() >= kRetiredMax || retired_bytes_ >= kRetiredBytesMax) destroy_retired();
}

void NatsBus::destroy_retired() {
  for (natsMsg* message : retired_) natsMsg_Destroy(message);
  retired_.clear();
  retired_bytes_ = 0;
}

Result<void> NatsBus::flush(Duration timeout) {
  // nats.c's flush waits for the server's PONG, which only a read of the socket shows — and the
  // reads are the executor's, which may be this very thread. A helper does them meanwhile.
  socket_->begin_flush();
  const natsStatus s = natsConnection_FlushTimeout(connection_, to_ms(timeout));
  socket_->end_flush();

  if (s != NATS_OK) return fail(error_of(s, "flush"));
  return {};
}

}  // namespace reliant
