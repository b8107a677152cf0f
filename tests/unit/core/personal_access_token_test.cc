// PAT format, shape check and hashing; constant-time equality.
#include "core/personal_access_token.h"

#include <gtest/gtest.h>

#include "base/constant_time.h"
#include "base/sha256.h"

namespace reliant {
namespace {

TEST(PersonalAccessToken, HasThePrefixAFixedLengthAndBase62) {
  std::array<std::uint8_t, kPatRandomBytes> zeros{};
  std::array<std::uint8_t, kPatRandomBytes> ones{};
  ones.fill(0xff);
  const auto low = format_pat(zeros);
  const auto high = format_pat(ones);
  EXPECT_EQ(low, "rlnt_pat_" + std::string(43, '0'));
  EXPECT_EQ(high.size(), low.size()) << "fixed width whatever the bytes";
  EXPECT_TRUE(looks_like_pat(low));
  EXPECT_TRUE(looks_like_pat(high));
  EXPECT_NE(high, low);
}

TEST(PersonalAccessToken, ShapeCheckRejectsJunk) {
  std::array<std::uint8_t, kPatRandomBytes> bytes{};
  bytes.fill(42);
  const auto token = format_pat(bytes);
  EXPECT_FALSE(looks_like_pat(""));
  EXPECT_FALSE(looks_like_pat(token.substr(1)));
  EXPECT_FALSE(looks_like_pat(token + "x"));
  EXPECT_FALSE(looks_like_pat("rlnt_pak_" + token.substr(9)));
  std::string bad = token;
  bad.back() = '-';
  EXPECT_FALSE(looks_like_pat(bad));
}

TEST(PersonalAccessToken, StoredHashIsSha256AndPrefixIsShort) {
  const std::string token = "rlnt_pat_" + std::string(43, 'a');
  EXPECT_EQ(hash_pat(token), to_hex(Sha256::of(token)));
  EXPECT_EQ(pat_display_prefix(token), "rlnt_pat_aaaa");
}

TEST(ConstantTime, EqualityIsExact) {
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "ab"));
  EXPECT_FALSE(constant_time_equal("ab", "abc"));
  EXPECT_FALSE(constant_time_equal(std::string("a\0b", 3), std::string("a\0c", 3)));
}

}  // namespace
}  // namespace reliant
