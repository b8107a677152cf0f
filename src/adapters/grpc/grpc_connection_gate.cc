// GrpcConnectionGate: the accept loop (a coroutine on the executor), the caps (ConnectionLimits,
// executor only), the wait for a connection's first bytes, the hand-over to gRPC, and the thread
// that sees handed-over connections hang up.
#include "adapters/grpc/grpc_connection_gate.h"

#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/server_builder.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <climits>
#include <map>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "adapters/asio/accepting.h"
#include "base/assert.h"
#include "core/connection_limits.h"
#include "runtime/future.h"
#include "runtime/scope.h"
#include "runtime/sleep.h"

namespace reliant {
namespace {

namespace net = boost::asio;
using tcp = boost::asio::ip::tcp;

// Connections accepted in one executor turn, at most, after the one that woke the loop.
constexpr std::size_t kAcceptBatchMax = 64;
constexpr std::size_t kConnectionCapMin = 8;
constexpr std::uint64_t kDescriptorReserveMin = 64;
constexpr int kHangupsPerWaitMax = 64;

// "ip:port" as peer_address() writes gRPC's peer string: IPv4 dotted (also when it reached an
// IPv6 socket mapped), IPv6 in brackets.
std::string peer_key(const tcp::endpoint& endpoint) {
  net::ip::address address = endpoint.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    address = net::ip::make_address_v4(net::ip::v4_mapped, address.to_v6());
  }
  const std::string host = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
  return host + ":" + std::to_string(endpoint.port());
}

// A call's peer as the gate keys it: an IPv4 client that reached an IPv6 socket may be named
// "[::ffff:1.2.3.4]:port" by gRPC; the gate names it "1.2.3.4:port".
std::string canonical_peer(const std::string& peer) {
  constexpr std::string_view kMapped = "[::ffff:";
  const std::size_t end = peer.find("]:");
  if (!peer.starts_with(kMapped) || end == std::string::npos) return peer;
  const std::string inner = peer.substr(kMapped.size(), end - kMapped.size());
  if (inner.find('.') == std::string::npos) return peer;  // ::ffff:0:0/96 written in hex
  return inner + peer.substr(end + 1);
}

int milliseconds_arg(Duration d) {
  return static_cast<int>(std::min<std::int64_t>(to_ms(d), INT_MAX));
}

// Tells, from a thread of its own, when a watched socket has hung up: both directions shut down
// (gRPC closed its side, the gate shut it, or the peer reset it). Data never wakes it: epoll
// reports EPOLLHUP and EPOLLERR whatever events were asked for, and none are asked for.
class HangupWatcher {
 public:
  using OnHangup = std::function<void(std::uint64_t id)>;  // on the watcher's thread

  explicit HangupWatcher(OnHangup on_hangup) : on_hangup_(std::move(on_hangup)) {
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (epoll_fd_ < 0 || wake_fd_ < 0) return;
    epoll_event wake{};
    wake.events = EPOLLIN;
    wake.data.u64 = 0;  // no connection has id 0
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &wake) != 0) return;
    thread_ = std::thread([this] { run(); });
  }
  ~HangupWatcher() {
    if (thread_.joinable()) {
      stopping_ = true;
      const std::uint64_t one = 1;
      (void)!::write(wake_fd_, &one, sizeof one);
      thread_.join();
    }
    if (wake_fd_ >= 0) ::close(wake_fd_);
    if (epoll_fd_ >= 0) ::close(epoll_fd_);
  }
  HangupWatcher(const HangupWatcher&) = delete;
  HangupWatcher& operator=(const HangupWatcher&) = delete;

  bool running() const { return thread_.joinable(); }
  // Reports `fd`'s hang-up once, as `id`.
  bool watch(int fd, std::uint64_t id) {
    RELIANT_ASSERT(id != 0);
    epoll_event event{};
    event.events = EPOLLONESHOT;
    event.data.u64 = id;
    return ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) == 0;
  }
  // Before the descriptor closes: epoll keys on the open file, which gRPC's copy keeps open.
  void forget(int fd) { (void)::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr); }

 private:
  void run() {
    std::array<epoll_event, kHangupsPerWaitMax> events{};
    while (!stopping_) {
      const int n = ::epoll_wait(epoll_fd_, events.data(), kHangupsPerWaitMax, -1);
      if (n < 0 && errno != EINTR) return;
      for (int i = 0; i < n; ++i) {
        if (events[i].data.u64 != 0) on_hangup_(events[i].data.u64);
      }
    }
  }

  OnHangup on_hangup_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace

std::size_t grpc_connection_cap(std::size_t connections_max, std::uint64_t descriptor_limit) {
  const std::uint64_t reserve = std::max(kDescriptorReserveMin, descriptor_limit / 4);
  const std::uint64_t room = descriptor_limit > reserve ? (descriptor_limit - reserve) / 4 : 0;
  const std::uint64_t cap = std::max<std::uint64_t>(room, kConnectionCapMin);
  return static_cast<std::size_t>(std::min<std::uint64_t>(connections_max, cap));
}

struct GrpcConnectionGate::State : std::enable_shared_from_this<State> {
  State(AsioExecutor& e, GrpcConnectionLimits o, std::size_t cap)
      : executor(e),
        options(o),
        limits(ConnectionLimitsConfig{cap, std::min(cap, o.unauthenticated_connections_max),
                                      o.connections_per_address_max}),
        acceptor(e.context()),
        scope(e) {}

  ~State() {
    watcher.reset();  // no hang-up arrives from here on
    for (auto& [id, waiting] : silent) executor.cancel(waiting.deadline);
    for (auto& [id, connection] : connections) {
      executor.cancel(connection.deadline);
      ::close(connection.fd);  // gRPC's copy stays open until gRPC closes it
    }
  }

  // An admitted connection whose client has sent nothing yet, kept by the gate.
  struct Waiting {
    std::unique_ptr<tcp::socket> socket;
    std::string peer;
    TimerId deadline = 0;
  };

  // A connection handed to gRPC, until it hangs up: evicted ones too, until gRPC lets go.
  struct Tracked {
    int fd = -1;  // the gate's duplicate
    std::string peer;
    TimerId deadline = 0;
    std::size_t calls = 0;  // being answered (call_in_progress)
  };

  // Closes it: gRPC's reads and writes fail, and gRPC closes its side.
  void shut(ConnectionLimits::Id id) {
    const auto it = connections.find(id);
    if (it != connections.end()) ::shutdown(it->second.fd, SHUT_RDWR);
  }

  // The connection hung up (the watcher's report, posted).
  void closed(ConnectionLimits::Id id) {
    const auto it = connections.find(id);
    if (it == connections.end()) return;
    limits.forget(id);  // nothing when it was evicted
    executor.cancel(it->second.deadline);
    const auto peer = by_peer.find(it->second.peer);
    if (peer != by_peer.end() && peer->second == id) by_peer.erase(peer);
    watcher->forget(it->second.fd);
    ::close(it->second.fd);
    connections.erase(it);
  }

  void authenticate(const std::string& peer) {
    const auto it = by_peer.find(canonical_peer(peer));
    if (it == by_peer.end()) return;
    const ConnectionLimits::Id id = it->second;
    limits.authenticate(id);
    // gRPC has no idle state to read per connection: an authenticated one is never closed to
    // make room (GRPC_ARG_MAX_CONNECTION_IDLE_MS closes the idle ones).
    limits.set_busy(id, true);
    const auto tracked = connections.find(id);
    if (tracked != connections.end()) executor.cancel(std::exchange(tracked->second.deadline, 0));
  }

  void mark_spoken(const std::string& peer) {
    const auto it = by_peer.find(canonical_peer(peer));
    if (it != by_peer.end()) limits.mark_spoken(it->second);
  }

  // A call of `peer`'s began (+1) or ended (-1) being answered.
  void count_call(const std::string& peer, bool began) {
    const auto it = by_peer.find(canonical_peer(peer));
    if (it == by_peer.end()) return;
    const ConnectionLimits::Id id = it->second;
    const auto tracked = connections.find(id);
    if (tracked == connections.end()) return;
    std::size_t& calls = tracked->second.calls;
    if (began) {
      ++calls;
    } else if (calls > 0) {
      --calls;
    }
    limits.set_busy(id, calls > 0 || limits.is_authenticated(id));
  }

  // Still unauthenticated unauthenticated_timeout after it was accepted.
  void expire(ConnectionLimits::Id id) {
    if (limits.contains(id) && !limits.is_authenticated(id)) close_connection(id);
  }

  // A new connection: admitted, making room if need be, and kept here until its client sends
  // something — a silent connection costs gRPC nothing, and is the cheapest to close.
  void admit(tcp::socket socket) {
    boost::system::error_code ec;
    const tcp::endpoint remote = socket.remote_endpoint(ec);
    if (ec) return;  // the client is gone already; the socket closes with it
    ConnectionLimits::Admission admitted =
        limits.admit(client_address_key(remote.address()),
                     [this](ConnectionLimits::Id victim) { return received_something(victim); });
    for (const ConnectionLimits::Id victim : admitted.evicted) close_connection(victim);
    if (admitted.id == 0) return;  // every connection that could make room is authenticated
    const ConnectionLimits::Id id = admitted.id;
    Waiting waiting{std::make_unique<tcp::socket>(std::move(socket)), peer_key(remote), 0};
    waiting.deadline =
        executor.after(options.unauthenticated_timeout, [weak = weak_from_this(), id] {
          if (auto self = weak.lock()) self->expire(id);
        });
    tcp::socket& waiting_socket = *waiting.socket;
    silent.emplace(id, std::move(waiting));
    // Its first bytes (a TLS ClientHello, the HTTP/2 preface) may be there already.
    if (waiting_socket.available(ec) > 0 && !ec) {
      hand_over(id);
      return;
    }
    waiting_socket.async_wait(tcp::socket::wait_read,
                              [weak = weak_from_this(), id](boost::system::error_code waited) {
                                if (waited) return;  // closed here: evicted, expired, stopped
                                if (auto self = weak.lock()) self->hand_over(id);
                              });
  }

  // Whether a connection's client has sent anything, read or not.
  bool received_something(ConnectionLimits::Id id) {
    if (const auto it = silent.find(id); it != silent.end()) {
      return tcp_bytes_received(it->second.socket->native_handle()) > 0;
    }
    const auto tracked = connections.find(id);
    return tracked != connections.end() && tcp_bytes_received(tracked->second.fd) > 0;
  }

  // Closes it, wherever it is: waiting here, or served by gRPC.
  void close_connection(ConnectionLimits::Id id) {
    if (const auto it = silent.find(id); it != silent.end()) {
      executor.cancel(it->second.deadline);
      silent.erase(it);  // closes the socket; its wait ends with operation_aborted
      limits.forget(id);
      return;
    }
    shut(id);
  }

  // The client sent its first bytes (or hung up): gRPC takes the connection over, with the
  // gate keeping a duplicate of its descriptor.
  void hand_over(ConnectionLimits::Id id) {
    const auto it = silent.find(id);
    if (it == silent.end()) return;
    Waiting waiting = std::move(it->second);
    silent.erase(it);
    limits.mark_spoken(id);
    tcp::socket& socket = *waiting.socket;
    // The gate's copy; without one (out of descriptors) the connection could not be bounded,
    // so it is not taken.
    const int copy = ::fcntl(socket.native_handle(), F_DUPFD_CLOEXEC, 0);
    if (copy < 0 || !watcher->watch(copy, id)) {
      if (copy >= 0) ::close(copy);
      executor.cancel(waiting.deadline);
      limits.forget(id);
      return;
    }
    boost::system::error_code ec;
    socket.set_option(tcp::no_delay(true), ec);
    const int fd = socket.release(ec);
    if (ec) {  // cannot happen for an open socket; the connection is not taken
      watcher->forget(copy);
      ::close(copy);
      executor.cancel(waiting.deadline);
      limits.forget(id);
      return;
    }
    // gRPC reads without blocking, and no child process may inherit the connection.
    (void)::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    (void)::fcntl(fd, F_SETFD, FD_CLOEXEC);
    by_peer[waiting.peer] = id;
    connections.emplace(id, Tracked{copy, std::move(waiting.peer), waiting.deadline, 0});
    grpc::experimental::ExternalConnectionAcceptor::NewConnectionParameters handed;
    handed.listener_fd = acceptor.native_handle();
    handed.fd = fd;  // gRPC's from here on
    handoff->HandleNewConnection(&handed);
  }

  // Never stops accepting while the gate lives (accept_connections()). Half the unauthenticated
  // pool at most in one turn: a newcomer's first bytes come after the turn that accepted it,
  // and half the pool's admissions is its time before it counts as silent.
  Task<void> accept_loop() {
    const std::size_t batch =
        std::min<std::size_t>(kAcceptBatchMax, limits.config().unauthenticated_max / 2);
    Task<void> accepting = accept_connections(
        executor, acceptor, spare, batch, [this](tcp::socket socket) { admit(std::move(socket)); },
        [](tcp::socket&) {});  // closed: a gRPC client retries its connection
    co_await accepting;
  }

  AsioExecutor& executor;
  const GrpcConnectionLimits options;
  ConnectionLimits limits;
  std::map<ConnectionLimits::Id, Waiting> silent;       // admitted, not handed over yet
  std::map<ConnectionLimits::Id, Tracked> connections;  // handed over to gRPC
  std::map<std::string, ConnectionLimits::Id> by_peer;  // "ip:port" → its connection
  std::unique_ptr<grpc::experimental::ExternalConnectionAcceptor> handoff;
  std::unique_ptr<HangupWatcher> watcher;
  SpareDescriptor spare;
  tcp::acceptor acceptor;
  int port = 0;
  Scope scope;  // last: destroyed first, while everything its frames use still exists
};

GrpcConnectionGate::GrpcConnectionGate(std::shared_ptr<State> state) : state_(std::move(state)) {}

Result<std::unique_ptr<GrpcConnectionGate>> GrpcConnectionGate::listen(
    AsioExecutor& executor, const std::string& host, int port, GrpcConnectionLimits limits) {
  const std::string where = host + ":" + std::to_string(port);
  if (port < 0 || port > 65535) {
    return fail(ErrorCode::invalid_argument, "cannot serve gRPC on " + where + ": bad port");
  }
  if (limits.connections_max == 0 || limits.unauthenticated_connections_max == 0) {
    return fail(ErrorCode::invalid_argument,
                "cannot serve gRPC on " + where +
                    ": max_connections and max_unauthenticated_connections must be at least 1");
  }
  for (const Duration d :
       {limits.unauthenticated_timeout, limits.handshake_timeout, limits.idle_timeout,
        limits.keepalive_time, limits.keepalive_timeout, limits.min_ping_interval}) {
    if (d <= Duration::zero()) {
      return fail(ErrorCode::invalid_argument,
                  "cannot serve gRPC on " + where + ": every timeout must be positive");
    }
  }
  // A host name resolves here, once; brackets around an IPv6 address are the URL's, not its.
  std::string name = host;
  if (name.size() >= 2 && name.front() == '[' && name.back() == ']') {
    name = name.substr(1, name.size() - 2);
  }
  boost::system::error_code ec;
  tcp::endpoint endpoint;
  // As gRPC's own listener did, a wildcard takes both families: IPv6 with IPv4 mapped into it.
  const bool wildcard = name == "0.0.0.0" || name == "::";
  if (wildcard) {
    endpoint = tcp::endpoint(tcp::v6(), static_cast<unsigned short>(port));
  } else {
    tcp::resolver resolver(executor.context());
    const auto found = resolver.resolve(
        name, std::to_string(port), tcp::resolver::passive | tcp::resolver::numeric_service, ec);
    if (ec || found.empty()) {
      return fail(ErrorCode::invalid_argument, "cannot serve gRPC on " + where + ": '" + host +
                                                   "' is not an address of this host");
    }
    endpoint = found.begin()->endpoint();
    for (const auto& entry : found) {  // a name's IPv4 address, when it has one
      if (entry.endpoint().address().is_v4()) {
        endpoint = entry.endpoint();
        break;
      }
    }
  }

  std::size_t cap = limits.connections_max;
  if (const std::uint64_t limit = descriptor_limit(); limit > 0) {
    cap = grpc_connection_cap(cap, limit);
  }
  auto state = std::make_shared<State>(executor, limits, cap);
  state->acceptor.open(endpoint.protocol(), ec);
  if (ec && wildcard) {  // no IPv6 here: IPv4 alone
    endpoint = tcp::endpoint(tcp::v4(), static_cast<unsigned short>(port));
    ec.clear();
    state->acceptor.open(endpoint.protocol(), ec);
  }
  if (!ec && wildcard && endpoint.protocol() == tcp::v6()) {
    state->acceptor.set_option(net::ip::v6_only(false), ec);
  }
  if (!ec) state->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) state->acceptor.bind(endpoint, ec);
  if (!ec) state->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (!ec) state->acceptor.non_blocking(true, ec);  // shed_waiting()'s accept must not block
  if (ec) {
    return fail(ErrorCode::already_exists,
                "cannot serve gRPC on " + where + ": " + ec.message() +
                    " (the address is in use or is not an address of this host)");
  }
  state->port = state->acceptor.local_endpoint(ec).port();
  if (ec)
    return fail(ErrorCode::unavailable, "cannot serve gRPC on " + where + ": " + ec.message());
  state->watcher = std::make_unique<HangupWatcher>(
      [weak = std::weak_ptr<State>(state), &executor](std::uint64_t id) {
        executor.post([weak, id] {
          if (auto self = weak.lock()) self->closed(id);
        });
      });
  if (!state->watcher->running()) {
    return fail(ErrorCode::unavailable,
                "cannot serve gRPC on " + where + ": no epoll instance for its connections");
  }
  return std::unique_ptr<GrpcConnectionGate>(new GrpcConnectionGate(std::move(state)));
}

GrpcConnectionGate::~GrpcConnectionGate() {
  boost::system::error_code ignored;
  state_->acceptor.close(ignored);
}

int GrpcConnectionGate::port() const { return state_->port; }

std::size_t GrpcConnectionGate::connections_max() const {
  return state_->limits.config().connections_max;
}

std::size_t GrpcConnectionGate::open_connections() const { return state_->limits.open(); }

void GrpcConnectionGate::configure(grpc::ServerBuilder& builder,
                                   const std::shared_ptr<grpc::ServerCredentials>& credentials) {
  const GrpcConnectionLimits& o = state_->options;
  state_->handoff = builder.experimental().AddExternalConnectionAcceptor(
      grpc::ServerBuilder::experimental_type::ExternalConnectionType::FROM_FD, credentials);
  builder.AddChannelArgument(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS,
                             milliseconds_arg(o.handshake_timeout));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS, milliseconds_arg(o.idle_timeout));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, milliseconds_arg(o.keepalive_time));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, milliseconds_arg(o.keepalive_timeout));
  // Pings with or without calls: the server's own keepalive then also probes a connection
  // that has none (a peer gone without a FIN, or one that stopped reading, is closed after
  // keepalive_time + keepalive_timeout instead of holding its descriptor until the idle
  // timeout), and a client's pings are enforced alike — one per min_ping_interval at most,
  // past two strikes the connection is closed (GOAWAY too_many_pings).
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                             milliseconds_arg(o.min_ping_interval));
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 2);
  // No GRPC_ARG_MAX_CONNECTION_AGE_MS: update streams, terminals and daemon streams last hours,
  // and an age would end them (after a grace) however active they are.
  //
  // Only identity messages: gRPC inflates a compressed message before it checks the receive
  // size, so one gzip request of a megabyte, sent before any credential, held a gigabyte. A
  // compressed message is refused (UNIMPLEMENTED) and no compression is offered.
  builder.SetCompressionAlgorithmSupportStatus(GRPC_COMPRESS_DEFLATE, false);
  builder.SetCompressionAlgorithmSupportStatus(GRPC_COMPRESS_GZIP, false);
}

void GrpcConnectionGate::start() {
  RELIANT_ASSERT_MSG(state_->handoff != nullptr, "configure() before start()");
  state_->scope.spawn(state_->accept_loop());
}

std::shared_ptr<void> GrpcConnectionGate::call_in_progress(const std::string& peer) const {
  // Counts the call as it starts; the deleter counts its end, when it still finds the gate.
  state_->count_call(peer, true);
  auto* token = new std::string(peer);
  return std::shared_ptr<void>(token, [weak = std::weak_ptr<State>(state_)](void* held) {
    std::unique_ptr<std::string> peer(static_cast<std::string*>(held));
    if (auto state = weak.lock()) state->count_call(*peer, false);
  });
}

void GrpcConnectionGate::spoke(const std::string& peer) const { state_->mark_spoken(peer); }

std::function<void()> GrpcConnectionGate::authenticator(const std::string& peer) const {
  return [weak = std::weak_ptr<State>(state_), peer] {
    if (auto state = weak.lock()) state->authenticate(peer);
  };
}

}  // namespace reliant
