// base64url and percent-encoding: known vectors (RFC 4648 §10) and round trips.
#include <gtest/gtest.h>

#include "base/base64url.h"
#include "base/url_encoding.h"

namespace reliant {
namespace {

TEST(Base64Url, MatchesTheRfcVectorsWithoutPadding) {
  const std::pair<std::string, std::string> vectors[] = {
      {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},          {"foo", "Zm9v"},
      {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}, {"\xfb\xff", "-_8"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(base64url_encode(plain), encoded);
    EXPECT_EQ(base64url_decode(encoded), plain);
  }
  EXPECT_EQ(base64url_decode("Zm9v+"), std::nullopt) << "not the URL alphabet";
  EXPECT_EQ(base64url_decode("Z"), std::nullopt) << "no encoding is one character long";
}

TEST(UrlEncoding, FormsDecodeAndEncodedValuesRoundTrip) {
  const auto form = parse_form_urlencoded("a=1&b=x+y&c=%3D%26&a=2&&d&e=%zz");
  EXPECT_EQ(form.at("a"), "1") << "the first of a repeated name wins";
  EXPECT_EQ(form.at("b"), "x y");
  EXPECT_EQ(form.at("c"), "=&");
  EXPECT_EQ(form.at("d"), "");
  EXPECT_EQ(form.at("e"), "%zz") << "a malformed escape is kept as written";
  const std::string awkward = "a b&c=d/é?#~";
  EXPECT_EQ(percent_decode(url_encode(awkward), true), awkward);
  EXPECT_EQ(url_encode("A-z_0.~ /"), "A-z_0.~%20%2F");
}

}  // namespace
}  // namespace reliant
