// SPDX-License-Identifier: MIT
#include <gtest/gtest.h>

#include <ninep/wire/codec.hpp>
#include <ninep/wire/format.hpp>
TEST(smoke, tversion) {
  using namespace ninep::wire;
  std::array<std::byte, 64> buf{};
  message m{notag, Tversion{8192, "9P2000"}};
  auto n = encode(m, dialect::v2000, buf);
  ASSERT_TRUE(n);
  auto d = decode(std::span(buf).first(*n), dialect::v2000);
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_EQ(*d, m);
  EXPECT_EQ(fmt::format("{}", *d), "Tversion tag 65535 msize 8192 version \"9P2000\"");
}
