// Trace: every event the world runs (virtual time, node, kind, payload digest), hashed as it goes.
//
// Two runs of the same scenario, seed and build must produce the same SHA-256; any divergence
// is a determinism bug. The last records are kept in memory to show what led to a failure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>

#include "base/sha256.h"
#include "base/time.h"

namespace reliant::sim {

struct TraceRecord {
  Instant at;
  std::uint32_t node;  // 0: the world itself
  const char* kind;    // a string literal: "bus.deliver", "stream.frame", "proc.crash", …
  std::uint64_t digest;
};

class Trace {
 public:
  explicit Trace(std::size_t keep_last = 64) : keep_last_(keep_last) {}

  void record(Instant at, std::uint32_t node, const char* kind, std::uint64_t digest);
  std::uint64_t events() const { return events_; }
  // The hash of everything recorded so far (the trace can go on afterwards).
  std::string hex_digest() const;
  const std::deque<TraceRecord>& recent() const { return recent_; }
  // Hears every record as it is made (a sweep's crash rerun keeps the last ones where a fatal
  // signal can still write them out).
  std::function<void(const TraceRecord&)> on_record;

 private:
  Sha256 hash_;
  std::uint64_t events_ = 0;
  std::size_t keep_last_;
  std::deque<TraceRecord> recent_;
};

}  // namespace reliant::sim
