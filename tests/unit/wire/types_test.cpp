// SPDX-License-Identifier: MIT
// types.hpp: constants, version strings, qid, bounded_array, payload.
#include <gtest/gtest.h>

#include <ninep/wire/types.hpp>
#include <string_view>

namespace ninep::wire {
namespace {

TEST(types, constants) {
  EXPECT_EQ(notag, 0xffff);
  EXPECT_EQ(nofid, 0xffffffffu);
  EXPECT_EQ(header_size, 7u);
  EXPECT_EQ(io_header_size, 24u);                     // Plan 9's IOHDRSZ
  EXPECT_GE(io_header_size, 4u + 1 + 2 + 4 + 8 + 4);  // Twrite's header fits
  EXPECT_EQ(max_welem, 16u);
}

TEST(types, version_strings) {
  EXPECT_EQ(version_string(dialect::v2000), "9P2000");
  EXPECT_EQ(version_string(dialect::v2000u), "9P2000.u");
  EXPECT_EQ(version_string(dialect::v2000L), "9P2000.L");
}

TEST(types, bounded_array) {
  bounded_array<int, 3> a;
  EXPECT_TRUE(a.empty());
  EXPECT_TRUE(a.push_back(1));
  EXPECT_TRUE(a.push_back(2));
  EXPECT_TRUE(a.push_back(3));
  EXPECT_FALSE(a.push_back(4));
  EXPECT_EQ(a.size(), 3u);
  EXPECT_EQ(a[2], 3);
  bounded_array<int, 3> b{1, 2, 3};
  EXPECT_EQ(a, b);
  b[2] = 4;
  EXPECT_NE(a, b);
  b.clear();
  EXPECT_TRUE(b.empty());
  EXPECT_NE(a, b);
  // Elements past size() do not take part in equality.
  bounded_array<int, 3> c{1}, d{1, 2};
  d.clear();
  d.push_back(1);
  EXPECT_EQ(c, d);
}

TEST(types, qid_and_payload_equality) {
  EXPECT_EQ((qid{qt::dir, 1, 2}), (qid{qt::dir, 1, 2}));
  EXPECT_NE((qid{qt::dir, 1, 2}), (qid{qt::file, 1, 2}));
  std::byte x[2] = {std::byte{1}, std::byte{2}}, y[2] = {std::byte{1}, std::byte{2}};
  EXPECT_EQ(payload{x}, payload{y});
  EXPECT_NE(payload{x}, payload{std::span(y).first(1)});
}

TEST(types, dialect_of_is_exact_and_inverts_version_string) {
  for (dialect d : {dialect::v2000, dialect::v2000u, dialect::v2000L})
    EXPECT_EQ(dialect_of(version_string(d)), d);
  for (std::string_view v : {"", "9P2000.", "9P2000.l", "9P2000.L ", "9P2000.U", "unknown"})
    EXPECT_EQ(dialect_of(v), std::nullopt) << v;
}

TEST(types, valid_name) {
  using namespace std::string_view_literals;
  for (std::string_view n : {"a"sv, "..."sv, ".a"sv, "a b"sv, "caf\xc3\xa9"sv})
    EXPECT_TRUE(valid_name(n)) << n;
  for (std::string_view n : {""sv, "."sv, ".."sv, "a/b"sv, "/"sv, "a\0b"sv})
    EXPECT_FALSE(valid_name(n)) << n;
}

}  // namespace
}  // namespace ninep::wire
