// SHA-256 (FIPS 180-4), incremental: trace hashes and token hashes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace reliant {

class Sha256 {
 public:
  using Digest = std::array<std::uint8_t, 32>;

  Sha256();
  void update(std::string_view bytes);
  void update(const void* data, std::size_t size);
  // Finishes the hash; the object must not be updated afterwards.
  Digest finish();

  static Digest of(std::string_view bytes);

 private:
  void compress(const std::uint8_t* block);

  std::array<std::uint32_t, 8> state_;
  std::array<std::uint8_t, 64> buffer_{};
  std::size_t buffered_ = 0;
  std::uint64_t total_bytes_ = 0;
  bool finished_ = false;
};

// Lower-case hex of any byte string.
std::string to_hex(const std::uint8_t* data, std::size_t size);
inline std::string to_hex(const Sha256::Digest& d) { return to_hex(d.data(), d.size()); }

}  // namespace reliant
