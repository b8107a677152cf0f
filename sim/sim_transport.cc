// Simulated connections: a dial is a world event at the listener after one latency, the answer
// another latency later; frames and closes keep per-direction FIFO order.
#include "sim/sim_transport.h"

#include <algorithm>

#include "base/digest.h"

namespace reliant::sim {
namespace {

// The offsets at which `bytes`' top-level protobuf fields end (0 first), or just {0, size} when
// the bytes do not parse as protobuf wire format.
std::vector<std::size_t> protobuf_field_boundaries(const std::string& bytes) {
  std::vector<std::size_t> ends{0};
  std::size_t at = 0;
  auto varint = [&](std::uint64_t& value) {
    value = 0;
    for (int shift = 0; shift < 64 && at < bytes.size(); shift += 7) {
      const auto byte = static_cast<unsigned char>(bytes[at++]);
      value |= std::uint64_t{byte & 0x7fu} << shift;
      if ((byte & 0x80u) == 0) return true;
    }
    return false;
  };
  while (at < bytes.size()) {
    std::uint64_t tag = 0;
    std::uint64_t skip = 0;
    if (!varint(tag)) return {0, bytes.size()};
    switch (tag & 7u) {
      case 0:  // varint
        if (!varint(skip)) return {0, bytes.size()};
        skip = 0;
        break;
      case 1:
        skip = 8;
        break;  // fixed64
      case 2:   // length-delimited
        if (!varint(skip)) return {0, bytes.size()};
        break;
      case 5:
        skip = 4;
        break;  // fixed32
      default:
        return {0, bytes.size()};
    }
    if (bytes.size() - at < skip) return {0, bytes.size()};
    at += skip;
    ends.push_back(at);
  }
  return ends;
}

class SimListener final : public Listener {
 public:
  SimListener(std::string address, std::function<void()> remove,
              std::shared_ptr<AcceptHandler> handler)
      : address_(std::move(address)), remove_(std::move(remove)), handler_(std::move(handler)) {}
  ~SimListener() override { remove_(); }
  std::string address() const override { return address_; }

 private:
  std::string address_;
  std::function<void()> remove_;
  std::shared_ptr<AcceptHandler> handler_;
};

}  // namespace

SimStreams::SimStreams(World& world, Network& network)
    : world_(world), network_(network), random_(world.random().split("streams")) {}

std::size_t SimStreams::open_links() const {
  return static_cast<std::size_t>(std::count_if(links_.begin(), links_.end(), [](const auto& e) {
    auto link = e.second.lock();
    return link && (link->end[0] != nullptr || link->end[1] != nullptr);
  }));
}

std::shared_ptr<Link> SimStreams::pick_open_link() {
  std::vector<std::shared_ptr<Link>> open;
  for (auto it = links_.begin(); it != links_.end();) {
    auto link = it->second.lock();
    if (!link) {
      it = links_.erase(it);
      continue;
    }
    if (link->end[0] != nullptr && link->end[1] != nullptr && !link->broken[0] &&
        !link->broken[1]) {
      open.push_back(std::move(link));
    }
    ++it;
  }
  if (open.empty()) return nullptr;
  return open[random_.below(open.size())];
}

bool SimStreams::reset_random_link() {
  auto link = pick_open_link();
  if (!link) return false;
  ++stats_.resets;
  for (int side = 0; side < 2; ++side) {
    world_.schedule(world_.now(), link->node[side], link->incarnation[side], "stream.reset",
                    link->id, [link, side] {
                      if (auto* end = link->end[side]) {
                        end->ended(Error{ErrorCode::closed, "connection reset"});
                      }
                    });
  }
  return true;
}

std::size_t SimStreams::reset_links_of(NodeId node) {
  std::vector<std::shared_ptr<Link>> hit;
  for (const auto& [id, weak] : links_) {
    auto link = weak.lock();
    if (link && link->end[0] != nullptr && link->end[1] != nullptr &&
        (link->node[0] == node || link->node[1] == node)) {
      hit.push_back(std::move(link));
    }
  }
  for (const auto& link : hit) {
    ++stats_.resets;
    for (int side = 0; side < 2; ++side) {
      world_.schedule(world_.now(), link->node[side], link->incarnation[side], "stream.reset",
                      link->id, [link, side] {
                        if (auto* end = link->end[side]) {
                          end->ended(Error{ErrorCode::closed, "connection reset"});
                        }
                      });
    }
  }
  return hit.size();
}

bool SimStreams::break_random_link() {
  auto link = pick_open_link();
  if (!link) return false;
  ++stats_.half_open;
  link->broken[0] = link->broken[1] = true;
  world_.trace().record(world_.now(), kWorldNode, "stream.half_open", link->id);
  return true;
}

void SimStreams::connect(SimExecutor& dialer, const std::string& address, const Metadata& metadata,
                         Promise<Result<StreamPtr>> done) {
  if (on_dial) on_dial(address);
  const NodeId from = dialer.node();
  const std::uint64_t from_incarnation = dialer.incarnation();
  SimExecutor* dialer_executor = &dialer;  // valid whenever an event of this incarnation runs
  const Instant syn_at = world_.now() + network_.latency(random_);
  world_.schedule(syn_at, kWorldNode, 0, "stream.syn", digest64(address), [=, this] {
    auto it = listeners_.find(address);
    auto handler = it == listeners_.end() ? nullptr : it->second.on_accept.lock();
    const Instant answer_at = world_.now() + network_.latency(random_);
    if (!handler) {
      ++stats_.refused;
      world_.schedule(
          answer_at, from, from_incarnation, "stream.refused", digest64(address), [done, address] {
            done.set(
                fail(ErrorCode::unavailable, "connection refused: nothing listens on " + address));
          });
      return;
    }
    SimExecutor* acceptor = it->second.executor;
    if (network_.blocked(from, acceptor->node())) return;  // SYN lost: the dial times out
    auto link = std::make_shared<Link>();
    link->id = next_link_++;
    link->address = address;
    link->metadata = metadata;
    link->node[0] = from;
    link->incarnation[0] = from_incarnation;
    link->node[1] = acceptor->node();
    link->incarnation[1] = acceptor->incarnation();
    // The acceptor's first frames travel behind the dial's answer, as a server's messages
    // follow the handshake on a real connection: none reaches the dialer before its stream.
    link->last_delivery[1] = answer_at;
    links_.emplace(link->id, link);
    ++stats_.opened;
    world_.schedule(world_.now(), link->node[1], link->incarnation[1], "stream.accept", link->id,
                    [this, handler, link, acceptor] {
                      (*handler)(std::make_unique<SimStream>(*this, *acceptor, link, 1));
                    });
    if (network_.blocked(acceptor->node(), from)) {
      link->broken[1] = true;  // the answer never arrives; the acceptor's side is half-open
      return;
    }
    world_.schedule(answer_at, from, from_incarnation, "stream.connected", link->id,
                    [this, link, done, dialer_executor] {
                      done.set(std::make_unique<SimStream>(*this, *dialer_executor, link, 0));
                    });
  });
}

void SimStreams::send(Link& link, int side, std::string frame, std::shared_ptr<Link> keep) {
  const int to = 1 - side;
  const auto digest = digest64(frame);
  if (link.broken[side] || network_.blocked(link.node[side], link.node[to])) {
    // A partition stalls a TCP stream: nothing after the first loss gets through either.
    link.broken[side] = true;
    ++stats_.lost;
    world_.trace().record(world_.now(), link.node[side], "stream.lost", digest);
    return;
  }
  if (network_.stream_faults().any()) {
    for (std::string& malformed : malformed_before(frame))
      deliver(link, side, std::move(malformed), keep);
  }
  deliver(link, side, std::move(frame), keep);
}

void SimStreams::deliver(Link& link, int side, std::string frame,
                         const std::shared_ptr<Link>& keep) {
  const int to = 1 - side;
  ++stats_.frames;
  const Instant at = std::max(world_.now() + network_.latency(random_), link.last_delivery[side]);
  link.last_delivery[side] = at;
  world_.schedule(at, link.node[to], link.incarnation[to], "stream.frame", digest64(frame),
                  [this, keep, to, frame = std::move(frame)]() mutable {
                    if (auto* end = keep->end[to]) {
                      end->arrive(std::move(frame));
                    } else if (!keep->closed[to]) {
                      // The receiver vanished without a close (it was never accepted): its
                      // kernel answers with a reset.
                      reset_side(keep, 1 - to);
                    }
                  });
}

std::vector<std::string> SimStreams::malformed_before(const std::string& frame) {
  const StreamFaults& faults = network_.stream_faults();
  std::vector<std::string> out;
  if (random_.chance(faults.garbage)) {
    ++stats_.garbage;
    std::string junk(1 + random_.below(96), '\0');
    for (char& c : junk) c = static_cast<char>(random_.below(256));
    out.push_back(std::move(junk));
  }
  if (random_.chance(faults.truncated)) {
    // Cut inside a top-level field, so that no decoder can take it for a whole message. Where
    // the frame is not protobuf, any cut will do.
    std::vector<std::size_t> cuts;
    const std::vector<std::size_t> boundaries = protobuf_field_boundaries(frame);
    for (std::size_t cut = 1; cut < frame.size(); ++cut) {
      if (!std::binary_search(boundaries.begin(), boundaries.end(), cut)) cuts.push_back(cut);
    }
    if (!cuts.empty()) {
      ++stats_.truncated;
      out.push_back(frame.substr(0, cuts[random_.below(cuts.size())]));
    }
  }
  if (random_.chance(faults.unknown)) {
    // Field 15001, length-delimited, as a newer peer's frame type would be: decoders keep it as
    // an unknown field and see no frame they know.
    ++stats_.unknown;
    std::string unknown;
    for (std::uint64_t tag = (15001u << 3) | 2u; tag != 0; tag >>= 7) {
      unknown.push_back(static_cast<char>((tag & 0x7f) | (tag > 0x7f ? 0x80 : 0)));
    }
    const std::size_t length = random_.below(16);
    unknown.push_back(static_cast<char>(length));
    for (std::size_t i = 0; i < length; ++i)
      unknown.push_back(static_cast<char>(random_.below(256)));
    out.push_back(std::move(unknown));
  }
  return out;
}

void SimStreams::send_close(Link& link, int side, std::shared_ptr<Link> keep, std::string reason) {
  const int to = 1 - side;
  link.closed[side] = true;
  if (link.broken[side] || network_.blocked(link.node[side], link.node[to])) return;
  const Instant at = std::max(world_.now() + network_.latency(random_), link.last_delivery[side]);
  link.last_delivery[side] = at;
  world_.schedule(at, link.node[to], link.incarnation[to], "stream.fin", link.id,
                  [keep = std::move(keep), to, reason = std::move(reason)] {
                    if (auto* end = keep->end[to]) end->ended(Error{ErrorCode::closed, reason});
                  });
}

void SimStreams::reset_side(const std::shared_ptr<Link>& link, int side) {
  const Instant at = world_.now() + network_.latency(random_);
  world_.schedule(at, link->node[side], link->incarnation[side], "stream.reset", link->id,
                  [link, side] {
                    if (auto* end = link->end[side]) {
                      end->ended(Error{ErrorCode::closed, "connection reset by peer"});
                    }
                  });
}

SimStream::SimStream(SimStreams& streams, SimExecutor& executor, std::shared_ptr<Link> link,
                     int side)
    : streams_(streams), executor_(executor), link_(std::move(link)), side_(side) {
  RELIANT_ASSERT(link_->end[side_] == nullptr);
  link_->end[side_] = this;
}

SimStream::~SimStream() {
  close();
  link_->end[side_] = nullptr;
}

std::string SimStream::peer() const { return streams_.world_.node_name(link_->node[1 - side_]); }

Result<void> SimStream::send(std::string frame) {
  if (closed_locally_) return fail(ErrorCode::closed, "stream closed");
  if (ended_) return fail(*ended_);
  streams_.send(*link_, side_, std::move(frame), link_);
  return {};
}

Task<Result<std::string>> SimStream::receive() {
  if (!inbox_.empty()) {
    std::string frame = std::move(inbox_.front());
    inbox_.pop_front();
    co_return frame;
  }
  if (closed_locally_) co_return fail(ErrorCode::closed, "stream closed");
  if (ended_) co_return fail(*ended_);
  RELIANT_ASSERT_MSG(!waiter_.valid() || waiter_.is_set(), "one receive at a time");
  auto [promise, future] = make_promise<Result<std::string>>(executor_);
  waiter_ = promise;
  Result<std::string> frame = co_await future;
  co_return frame;
}

void SimStream::arrive(std::string frame) {
  if (closed_locally_ || ended_) return;
  if (waiter_.valid() && !waiter_.is_set()) {
    waiter_.set(std::move(frame));
    waiter_ = {};
    return;
  }
  inbox_.push_back(std::move(frame));
}

void SimStream::ended(Error reason) {
  if (closed_locally_ || ended_) return;
  ended_ = reason;
  if (waiter_.valid() && !waiter_.is_set()) waiter_.set(fail(reason));
  waiter_ = {};
  notify_close(std::move(reason));
}

void SimStream::close() {
  if (closed_locally_) return;
  closed_locally_ = true;
  if (!ended_) streams_.send_close(*link_, side_, link_, "closed by peer");
  const Error reason{ErrorCode::closed, "stream closed"};
  if (waiter_.valid() && !waiter_.is_set()) waiter_.set(fail(reason));
  waiter_ = {};
  if (!ended_) notify_close(reason);
}

void SimStream::notify_close(Error reason) {
  if (close_notified_ || !on_close_) return;
  close_notified_ = true;
  std::weak_ptr<std::function<void(const Error&)>> weak = on_close_;
  executor_.post([weak, reason = std::move(reason)] {
    if (auto callback = weak.lock()) (*callback)(reason);
  });
}

void SimStream::on_close(std::function<void(const Error&)> callback) {
  on_close_ = std::make_shared<std::function<void(const Error&)>>(std::move(callback));
}

Result<ListenerPtr> SimTransport::listen(std::string address, AcceptHandler on_accept) {
  if (address.empty() || address.find(':') == std::string::npos) {
    return fail(ErrorCode::invalid_argument, "listen address '" + address + "' is not host:port");
  }
  if (streams_.listeners_.count(address) != 0) {
    return fail(ErrorCode::already_exists, "address " + address + " is already in use");
  }
  auto handler = std::make_shared<AcceptHandler>(std::move(on_accept));
  streams_.listeners_.emplace(address, SimStreams::ListenerEntry{&executor_, handler});
  auto* streams = &streams_;
  return ListenerPtr(std::make_unique<SimListener>(
      address, [streams, address] { streams->listeners_.erase(address); }, std::move(handler)));
}

Task<Result<StreamPtr>> SimTransport::dial(std::string address, Metadata metadata,
                                           Duration timeout) {
  auto [promise, future] = make_promise<Result<StreamPtr>>(executor_);
  ScopedTimer timer(executor_, executor_.after(timeout, [promise = promise, address, timeout] {
    promise.set(fail(ErrorCode::timeout,
                     "dial " + address + ": no answer within " + format_duration(timeout)));
  }));
  streams_.connect(executor_, address, metadata, promise);
  Result<StreamPtr> stream = co_await future;
  co_return stream;
}

}  // namespace reliant::sim
