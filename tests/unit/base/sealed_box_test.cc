// AES-256-GCM sealing (base/sealed_box.h): a round trip, and every alteration refused.
#include <gtest/gtest.h>

#include "base/sealed_box.h"

namespace reliant {
namespace {

TEST(SealedBox, OpensWhatItSealedAndNothingAltered) {
  SealKey key;
  key.bytes.fill(7);
  std::array<std::uint8_t, kSealNonceBytes> nonce{};
  nonce.fill(9);
  const std::string sealed = seal(key, nonce, "sk-secret", "user\nanthropic");
  EXPECT_EQ(sealed.size(), kSealNonceBytes + 9 + kSealTagBytes);
  EXPECT_EQ(sealed.find("sk-secret"), std::string::npos);
  EXPECT_EQ(open_sealed(key, sealed, "user\nanthropic").value_or("?"), "sk-secret");
  EXPECT_EQ(open_sealed(key, seal(key, nonce, "", "x"), "x").value_or("?"), "");

  EXPECT_FALSE(open_sealed(key, sealed, "other\nanthropic").has_value());  // other owner
  SealKey other = key;
  other.bytes[0] ^= 1;
  EXPECT_FALSE(open_sealed(other, sealed, "user\nanthropic").has_value());
  EXPECT_NE(other.fingerprint(), key.fingerprint());
  EXPECT_EQ(key.fingerprint().size(), 16U);
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    std::string altered = sealed;
    altered[i] = static_cast<char>(altered[i] ^ 0x20);
    EXPECT_FALSE(open_sealed(key, altered, "user\nanthropic").has_value()) << "byte " << i;
  }
  EXPECT_FALSE(open_sealed(key, sealed.substr(0, 20), "user\nanthropic").has_value());
  EXPECT_FALSE(open_sealed(key, "", "").has_value());
}

}  // namespace
}  // namespace reliant
