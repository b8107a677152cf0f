// Simulated streams: ordered frame streams between simulated nodes, with latency, partitions,
// resets and half-open breaks (frames silently lost, nobody told).
//
// SimStreams is the world's network stack (listeners and links); each SimTransport is one
// process incarnation's view of it. Frames are world events for the receiver's incarnation.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "runtime/future.h"
#include "runtime/transport.h"
#include "sim/network.h"
#include "sim/sim_executor.h"

namespace reliant::sim {

class SimStream;

struct StreamStats {
  std::uint64_t opened = 0;
  std::uint64_t refused = 0;
  std::uint64_t frames = 0;
  std::uint64_t lost = 0;  // sent into a broken or partitioned link
  std::uint64_t resets = 0;
  std::uint64_t half_open = 0;
  std::uint64_t garbage = 0;  // malformed frames sent ahead of real ones, by kind
  std::uint64_t truncated = 0;
  std::uint64_t unknown = 0;
};

// The shared state of one connection; side 0 dialed, side 1 accepted.
struct Link {
  std::uint64_t id = 0;
  std::string address;
  Metadata metadata;
  NodeId node[2] = {0, 0};
  std::uint64_t incarnation[2] = {0, 0};
  SimStream* end[2] = {nullptr, nullptr};  // live endpoints (cleared when destroyed)
  bool broken[2] = {false, false};         // broken[i]: what side i sends is lost
  bool closed[2] = {false, false};         // closed[i]: side i has sent its close
  Instant last_delivery[2] = {kSimEpoch, kSimEpoch};
};

class SimStreams {
 public:
  SimStreams(World& world, Network& network);
  const StreamStats& stats() const { return stats_; }

  // Faults, applied to a link chosen with the world's randomness among open ones.
  // Returns false when no link is open.
  bool reset_random_link();
  bool break_random_link();  // half-open: both directions silently lose frames
  // Resets every open link with `node` at one end; returns how many.
  std::size_t reset_links_of(NodeId node);

  std::size_t open_links() const;

  // Told of every dial as it leaves its dialer (the checkers watch whom gateways dial).
  std::function<void(const std::string& address)> on_dial;

 private:
  friend class SimTransport;
  friend class SimStream;
  friend class SimListener;
  struct ListenerEntry {
    SimExecutor* executor;
    std::weak_ptr<AcceptHandler> on_accept;
  };

  void connect(SimExecutor& dialer, const std::string& address, const Metadata& metadata,
               Promise<Result<StreamPtr>> done);
  void send(Link& link, int side, std::string frame, std::shared_ptr<Link> keep);
  void deliver(Link& link, int side, std::string frame, const std::shared_ptr<Link>& keep);
  // The malformed frames a protocol fault sends ahead of `frame` (usually none).
  std::vector<std::string> malformed_before(const std::string& frame);
  void send_close(Link& link, int side, std::shared_ptr<Link> keep, std::string reason);
  void reset_side(const std::shared_ptr<Link>& link, int side);
  std::shared_ptr<Link> pick_open_link();

  World& world_;
  Network& network_;
  Random random_;
  std::map<std::string, ListenerEntry> listeners_;
  std::map<std::uint64_t, std::weak_ptr<Link>> links_;
  std::uint64_t next_link_ = 1;
  StreamStats stats_;
};

class SimStream final : public Stream {
 public:
  SimStream(SimStreams& streams, SimExecutor& executor, std::shared_ptr<Link> link, int side);
  ~SimStream() override;

  Result<void> send(std::string frame) override;
  Task<Result<std::string>> receive() override;
  void close() override;
  void on_close(std::function<void(const Error&)> callback) override;
  const Metadata& metadata() const override { return link_->metadata; }
  std::string peer() const override;

 private:
  friend class SimStreams;
  void arrive(std::string frame);
  void ended(Error reason);  // peer closed or link reset
  void notify_close(Error reason);

  SimStreams& streams_;
  SimExecutor& executor_;
  std::shared_ptr<Link> link_;
  int side_;
  bool closed_locally_ = false;
  std::optional<Error> ended_;  // set once the stream can carry no more frames
  std::deque<std::string> inbox_;
  Promise<Result<std::string>> waiter_;
  std::shared_ptr<std::function<void(const Error&)>> on_close_;
  bool close_notified_ = false;
};

class SimTransport final : public Transport {
 public:
  SimTransport(SimStreams& streams, SimExecutor& executor)
      : streams_(streams), executor_(executor) {}

  Result<ListenerPtr> listen(std::string address, AcceptHandler on_accept) override;
  Task<Result<StreamPtr>> dial(std::string address, Metadata metadata, Duration timeout) override;

 private:
  SimStreams& streams_;
  SimExecutor& executor_;
};

}  // namespace reliant::sim
