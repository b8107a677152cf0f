// SHA-256 per FIPS 180-4; checked against the NIST test vectors in tests/unit/base.
#include "base/sha256.h"

// SHA256_Transform is deprecated in OpenSSL 3 in favour of the EVP interface, which cannot
// take one block with a given chaining state; OpenSSL 3 still provides it.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include <algorithm>
#include <cstring>

#include "base/assert.h"

namespace reliant {

Sha256::Sha256()
    : state_{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
             0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19} {}

void Sha256::update(std::string_view bytes) { update(bytes.data(), bytes.size()); }

void Sha256::update(const void* data, std::size_t size) {
  RELIANT_ASSERT(!finished_);
  const auto* in = static_cast<const std::uint8_t*>(data);
  total_bytes_ += size;
  if (buffered_ > 0) {
    const std::size_t take = std::min(size, buffer_.size() - buffered_);
    std::memcpy(buffer_.data() + buffered_, in, take);
    buffered_ += take;
    in += take;
    size -= take;
    if (buffered_ < buffer_.size()) return;
    compress(buffer_.data());
    buffered_ = 0;
  }
  while (size >= 64) {
    compress(in);
    in += 64;
    size -= 64;
  }
  if (size > 0) {
    std::memcpy(buffer_.data(), in, size);
    buffered_ = size;
  }
}

Sha256::Digest Sha256::finish() {
  RELIANT_ASSERT(!finished_);
  const std::uint64_t bit_length = total_bytes_ * 8;
  const std::uint8_t pad_start = 0x80;
  update(&pad_start, 1);
  const std::uint8_t zero = 0;
  while (buffered_ != 56) update(&zero, 1);
  std::uint8_t length_be[8];
  for (int i = 0; i < 8; ++i) length_be[i] = static_cast<std::uint8_t>(bit_length >> (56 - 8 * i));
  update(length_be, 8);
  RELIANT_ASSERT(buffered_ == 0);
  finished_ = true;
  Digest out;
  for (int i = 0; i < 8; ++i) {
    for (int b = 0; b < 4; ++b)
      out[4 * i + b] = static_cast<std::uint8_t>(state_[i] >> (24 - 8 * b));
  }
  return out;
}

Sha256::Digest Sha256::of(std::string_view bytes) {
  Sha256 h;
  h.update(bytes);
  return h.finish();
}

// One 64-byte block through OpenSSL's block function, which uses the CPU's SHA extensions where
// it has them (the simulator hashes every trace event, and the portable rounds this replaced were
// a twentieth of a busy scenario's instructions). Only the chaining state passes through OpenSSL's
// context; buffering and padding stay here.
void Sha256::compress(const std::uint8_t* block) {
  SHA256_CTX context{};
  std::copy(state_.begin(), state_.end(), context.h);
  SHA256_Transform(&context, block);
  std::copy(context.h, context.h + 8, state_.begin());
}

std::string to_hex(const std::uint8_t* data, std::size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(size * 2, '0');
  for (std::size_t i = 0; i < size; ++i) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 0xf];
  }
  return out;
}

}  // namespace reliant
