// HMAC-SHA256 against RFC 4231's test cases.
#include "base/hmac.h"

#include <gtest/gtest.h>

namespace reliant {
namespace {

TEST(HmacSha256, Rfc4231Vectors) {
  // Test case 1: a 20-byte key of 0x0b.
  EXPECT_EQ(to_hex(hmac_sha256(std::string(20, '\x0b'), "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  // Test case 2: a key shorter than the block.
  EXPECT_EQ(to_hex(hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // Test case 6: a key longer than the block is hashed first.
  EXPECT_EQ(to_hex(hmac_sha256(std::string(131, '\xaa'),
                               "Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(HmacSha256, TheKeyAndTheMessageEachChangeIt) {
  EXPECT_NE(hmac_sha256("k1", "m"), hmac_sha256("k2", "m"));
  EXPECT_NE(hmac_sha256("k", "m1"), hmac_sha256("k", "m2"));
  EXPECT_EQ(hmac_sha256("", ""), hmac_sha256("", ""));
}

}  // namespace
}  // namespace reliant
