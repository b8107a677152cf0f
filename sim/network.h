// Network: what links between simulated nodes do — latency, partitions, and the bus's message
// faults. The simulated bus and streams both consult it; the fault plan changes it over time.
#pragma once

#include <set>
#include <utility>

#include "base/time.h"
#include "runtime/random.h"
#include "sim/world.h"

namespace reliant::sim {

// Message faults on the bus, as probabilities per delivery.
struct BusFaults {
  double drop = 0;
  double duplicate = 0;
  double delay = 0;     // chance of a delay spike (delay_spike_min..max on top of latency)
  double reorder = 0;   // chance a delivery ignores per-publisher FIFO order
  double garbage = 0;   // chance a delivery is preceded by one of random bytes, same subject
  bool outage = false;  // the broker is down: nothing published is delivered
  Duration delay_spike_min = milliseconds(50);
  Duration delay_spike_max = seconds(2);
  bool any() const {
    return drop > 0 || duplicate > 0 || delay > 0 || reorder > 0 || garbage > 0 || outage;
  }
};

// Malformed frames on streams, as probabilities per frame sent: a frame the sender's peer could
// have sent by mistake (or on purpose) goes ahead of the real one, which still arrives.
struct StreamFaults {
  double garbage = 0;    // random bytes
  double truncated = 0;  // a copy of the frame cut short (never at a protobuf field boundary)
  double unknown = 0;    // a well-formed protobuf frame whose only field no version knows
  bool any() const { return garbage > 0 || truncated > 0 || unknown > 0; }
};

class Network {
 public:
  Network(Duration latency_min, Duration latency_max)
      : latency_min_(latency_min), latency_max_(latency_max) {}

  Duration latency(Random& random) const { return random.between(latency_min_, latency_max_); }
  Duration latency_max() const { return latency_max_; }

  // Directed: block(a, b) stops traffic from a to b only (a one-way partition).
  void block(NodeId from, NodeId to) { blocked_.insert({from, to}); }
  void unblock(NodeId from, NodeId to) { blocked_.erase({from, to}); }
  bool blocked(NodeId from, NodeId to) const {
    return !blocked_.empty() && blocked_.count({from, to}) != 0;
  }
  void heal_partitions() { blocked_.clear(); }
  bool partitioned() const { return !blocked_.empty(); }

  BusFaults& bus_faults() { return bus_faults_; }
  const BusFaults& bus_faults() const { return bus_faults_; }
  StreamFaults& stream_faults() { return stream_faults_; }
  const StreamFaults& stream_faults() const { return stream_faults_; }

 private:
  Duration latency_min_;
  Duration latency_max_;
  std::set<std::pair<NodeId, NodeId>> blocked_;
  BusFaults bus_faults_;
  StreamFaults stream_faults_;
};

}  // namespace reliant::sim
