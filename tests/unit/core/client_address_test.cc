// IPv6 text parsed as RFC 4291 writes it, and the key a per-address limit counts a client under.
#include "core/client_address.h"

#include <gtest/gtest.h>

namespace reliant {
namespace {

TEST(ClientAddress, ParsesEveryTextFormOfIpv6AndNothingElse) {
  using Groups = std::array<std::uint16_t, 8>;
  EXPECT_EQ(parse_ipv6("2001:db8:0:0:1:0:0:1"), (Groups{0x2001, 0xdb8, 0, 0, 1, 0, 0, 1}));
  EXPECT_EQ(parse_ipv6("2001:db8::1"), (Groups{0x2001, 0xdb8, 0, 0, 0, 0, 0, 1}));
  EXPECT_EQ(parse_ipv6("::1"), (Groups{0, 0, 0, 0, 0, 0, 0, 1}));
  EXPECT_EQ(parse_ipv6("::"), (Groups{}));
  EXPECT_EQ(parse_ipv6("fe80::"), (Groups{0xfe80, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(parse_ipv6("[2001:DB8::a]"), (Groups{0x2001, 0xdb8, 0, 0, 0, 0, 0, 0xa}));
  EXPECT_EQ(parse_ipv6("::ffff:192.0.2.1"), (Groups{0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201}));
  EXPECT_EQ(parse_ipv6("fe80::1%eth0"), (Groups{0xfe80, 0, 0, 0, 0, 0, 0, 1}));
  EXPECT_EQ(parse_ipv6("fe80::1%3"), (Groups{0xfe80, 0, 0, 0, 0, 0, 0, 1}));
  EXPECT_FALSE(parse_ipv6("fe80::1%").has_value());
  for (const char* bad : {"", "1.2.3.4", "localhost", "1::2::3", "1:2:3:4:5:6:7",
                          "1:2:3:4:5:6:7:8:9", "12345::", ":1:2:3:4:5:6:7", "1:2:3:4:5:6:7:", "::g",
                          "::1.2.3.256", "::1.2.3", "1:2:3:4:5:6:7::8"}) {
    EXPECT_FALSE(parse_ipv6(bad).has_value()) << bad;
  }
}

TEST(ClientAddress, CountsAnIpv6ClientByItsSlash64) {
  EXPECT_EQ(address_limit_key("2001:db8:1:2:aaaa::1"), "v6/64:2001:0db8:0001:0002");
  EXPECT_EQ(address_limit_key("2001:db8:1:2:ffff:ffff:ffff:ffff"), "v6/64:2001:0db8:0001:0002");
  EXPECT_NE(address_limit_key("2001:db8:1:3::1"), address_limit_key("2001:db8:1:2::1"));
  // IPv4, and an IPv4 client of a dual-stack socket, as its own address.
  EXPECT_EQ(address_limit_key("fe80::1%eth0"), "v6/64:fe80:0000:0000:0000");
  EXPECT_EQ(address_limit_key("fe80::2%eth0"), address_limit_key("fe80::1%eth1"));
  EXPECT_EQ(address_limit_key("192.0.2.1"), "192.0.2.1");
  EXPECT_EQ(address_limit_key("::ffff:192.0.2.1"), "192.0.2.1");
  EXPECT_EQ(address_limit_key("not an address"), "not an address");
}

}  // namespace
}  // namespace reliant
