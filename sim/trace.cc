// Trace records are hashed in a fixed little-endian layout, so the hash is independent of
// struct padding and of pointer values.
#include "sim/trace.h"

#include <cstring>

namespace reliant::sim {
namespace {
void put_u64(unsigned char* out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<unsigned char>(v >> (8 * i));
}
}  // namespace

void Trace::record(Instant at, std::uint32_t node, const char* kind, std::uint64_t digest) {
  unsigned char buf[8 + 4 + 8];
  put_u64(buf, static_cast<std::uint64_t>(at.time_since_epoch().count()));
  for (int i = 0; i < 4; ++i) buf[8 + i] = static_cast<unsigned char>(node >> (8 * i));
  put_u64(buf + 12, digest);
  hash_.update(buf, sizeof buf);
  hash_.update(kind, std::strlen(kind) + 1);
  ++events_;
  if (on_record) on_record(TraceRecord{at, node, kind, digest});
  if (keep_last_ == 0) return;
  if (recent_.size() == keep_last_) recent_.pop_front();
  recent_.push_back(TraceRecord{at, node, kind, digest});
}

std::string Trace::hex_digest() const {
  Sha256 copy = hash_;
  return to_hex(copy.finish());
}

}  // namespace reliant::sim
