// The key per-client limits count a peer under (connection caps, the sign-in limiter): its
// address, an IPv6 peer's /64, an IPv4 peer of a dual-stack socket its IPv4 address.
#include "adapters/asio/accepting.h"

#include <gtest/gtest.h>

namespace reliant {
namespace {

std::string key_of(const std::string& text) {
  return client_address_key(boost::asio::ip::make_address(text));
}

TEST(ClientAddressKey, CountsAnIpv6ClientByItsSlash64) {
  EXPECT_EQ(key_of("2001:db8:1:2:aaaa::1"), key_of("2001:db8:1:2:ffff:ffff:ffff:ffff"));
  EXPECT_NE(key_of("2001:db8:1:3::1"), key_of("2001:db8:1:2::1"));
  // A link-local peer's zone is not part of the key.
  EXPECT_EQ(key_of("fe80::1%1"), key_of("fe80::2"));
  // IPv4, and an IPv4 client of a dual-stack socket, as its own address.
  EXPECT_EQ(key_of("192.0.2.1"), "192.0.2.1");
  EXPECT_EQ(key_of("::ffff:192.0.2.1"), "192.0.2.1");
}

}  // namespace
}  // namespace reliant
