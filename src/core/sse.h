// SseParser: an incremental server-sent-events parser (the WHATWG event-stream format), no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace reliant {

struct SseEvent {
  std::string event = "message";  // the `event:` field, "message" when the event names none
  std::string data;               // the `data:` lines joined with "\n"
  std::string id;                 // the last `id:` seen (it persists across events, per spec)
};

class SseParser {
 public:
  // A line (or an event's accumulated data) longer than this fails the stream rather than
  // growing without bound: a provider never sends one, a broken proxy might.
  static constexpr std::size_t kEventBytesMax = 16u << 20;

  // Parses `bytes` (any split: mid-line, between \r and \n) and appends every event they
  // complete to `out`. Fails with `resource_exhausted` when an event exceeds kEventBytesMax;
  // the parser is then unusable.
  Result<void> feed(std::string_view bytes, std::vector<SseEvent>& out);

  // True when bytes of an unfinished event are buffered (a stream that ends here was cut).
  bool has_partial_event() const { return !line_.empty() || has_fields_; }
  // The last `retry:` field (the server's reconnection delay in milliseconds), if any came.
  std::optional<std::uint64_t> retry_ms() const { return retry_ms_; }
  // The last `id:` seen, even on an event without data (a stream's priming event).
  const std::string& last_id() const { return last_id_; }

 private:
  void process_line(std::string_view line, std::vector<SseEvent>& out);

  std::string line_;       // the unfinished line
  bool after_cr_ = false;  // the last byte was \r: a following \n belongs to it
  bool at_start_ = true;   // a UTF-8 byte order mark may open the stream
  std::string event_;      // fields of the event being built
  std::string data_;
  bool has_data_ = false;
  bool has_fields_ = false;
  std::string last_id_;
  std::optional<std::uint64_t> retry_ms_;
  bool failed_ = false;
};

}  // namespace reliant
