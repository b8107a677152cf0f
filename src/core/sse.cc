// SseParser: splits bytes into lines (\n, \r\n or \r), lines into fields, blank lines into events.
#include "core/sse.h"

#include <algorithm>

#include <utility>

namespace reliant {

namespace {
constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";
}  // namespace

Result<void> SseParser::feed(std::string_view bytes, std::vector<SseEvent>& out) {
  if (failed_) return fail(ErrorCode::failed_precondition, "the event stream already failed");
  std::size_t start = 0;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const char c = bytes[i];
    if (c != '\n' && c != '\r') {
      after_cr_ = false;
      continue;
    }
    // The \n of a \r\n split across two feeds ends nothing: its \r already ended the line.
    const bool second_half_of_crlf = c == '\n' && after_cr_ && i == start && line_.empty();
    after_cr_ = c == '\r';
    if (second_half_of_crlf) {
      start = i + 1;
      continue;
    }
    if (line_.empty()) {
      process_line(bytes.substr(start, i - start), out);
    } else {
      line_.append(bytes.substr(start, i - start));
      const std::string line = std::exchange(line_, {});
      process_line(line, out);
    }
    if (c == '\r' && i + 1 < bytes.size() && bytes[i + 1] == '\n') {
      ++i;  // \r\n within this feed
      after_cr_ = false;
    }
    start = i + 1;
  }
  line_.append(bytes.substr(start));
  if (line_.size() + data_.size() > kEventBytesMax) {
    failed_ = true;
    return fail(ErrorCode::resource_exhausted,
                "an event in the stream exceeds " + std::to_string(kEventBytesMax) + " bytes");
  }
  return {};
}

void SseParser::process_line(std::string_view line, std::vector<SseEvent>& out) {
  if (at_start_) {
    at_start_ = false;
    if (line.substr(0, kByteOrderMark.size()) == kByteOrderMark) {
      line.remove_prefix(kByteOrderMark.size());
    }
  }
  if (line.empty()) {  // a blank line ends the event; one without data is dropped (spec §9.2.6)
    if (has_data_) {
      SseEvent event;
      if (!event_.empty()) event.event = std::move(event_);
      event.data = std::move(data_);
      event.id = last_id_;
      out.push_back(std::move(event));
    }
    event_.clear();
    data_.clear();
    has_data_ = false;
    has_fields_ = false;
    return;
  }
  if (line.front() == ':') return;  // a comment (providers send them as keep-alives)
  const std::size_t colon = line.find(':');
  const std::string_view field = line.substr(0, colon);
  std::string_view value;
  if (colon != std::string_view::npos) {
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  has_fields_ = true;
  if (field == "data") {
    if (has_data_) data_.push_back('\n');
    data_.append(value);
    has_data_ = true;
  } else if (field == "event") {
    event_.assign(value);
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) last_id_.assign(value);
  } else if (field == "retry") {
    // Digits only (spec §9.2.6); anything else is ignored. Bounded: a day is plenty.
    std::uint64_t ms = 0;
    bool digits = !value.empty() && value.size() <= 9;
    for (char c : value) {
      if (c < '0' || c > '9') digits = false;
      if (digits) ms = ms * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (digits) retry_ms_ = std::min<std::uint64_t>(ms, 86'400'000);
  }
  // Unknown fields are ignored.
}

}  // namespace reliant
