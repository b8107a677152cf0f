// SHA-256 against the FIPS 180-4 / NIST example vectors; digest64 against FNV-1a vectors.
#include "base/sha256.h"
#include "base/digest.h"

#include <gtest/gtest.h>

namespace reliant {
namespace {

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(to_hex(Sha256::of("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(to_hex(Sha256::of("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(to_hex(Sha256::of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(to_hex(Sha256::of(std::string(1000000, 'a'))),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, IncrementalEqualsOneShotAtEveryLength) {
  std::string text;
  for (int i = 0; i < 200; ++i) {
    text.push_back(static_cast<char>('a' + i % 26));
    Sha256 h;
    // Feed in uneven pieces to cross the 64-byte block boundary in every way.
    for (std::size_t pos = 0; pos < text.size(); pos += 7) h.update(text.substr(pos, 7));
    EXPECT_EQ(h.finish(), Sha256::of(text)) << "length " << text.size();
  }
}

TEST(Digest64, IsFnv1aAndDiscriminating) {
  EXPECT_EQ(digest64(""), 0xcbf29ce484222325ULL);   // FNV-1a 64 offset basis
  EXPECT_EQ(digest64("a"), 0xaf63dc4c8601ec8cULL);  // published FNV-1a 64 test vector
  EXPECT_NE(digest64("abc"), digest64("abd"));
  static_assert(digest64("x") == digest64("x"));
}

}  // namespace
}  // namespace reliant
