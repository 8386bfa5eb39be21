// SPDX-License-Identifier: MIT
// stat.hpp and the stat/dirent functions of codec.hpp.
#include <gtest/gtest.h>

#include <ninep/core/error.hpp>
#include <ninep/wire/codec.hpp>
#include <ninep/wire/dotl.hpp>
#include <ninep/wire/stat.hpp>

#include "wire_test_util.hpp"

namespace ninep::wire {
namespace {

using test::bytes;
using test::from_hex;
using test::to_hex;

const stat sample{.qid = {qt::file, 0, 1},
                  .mode = 0644,
                  .atime = 1,
                  .mtime = 2,
                  .length = 3,
                  .name = "a",
                  .uid = "u",
                  .gid = "g",
                  .muid = ""};
constexpr std::string_view sample_hex =
    "3200 0000 00000000 00 00000000 0100000000000000 a4010000 01000000 02000000 "
    "0300000000000000 0100 61 0100 75 0100 67 0000";

TEST(stat, encode_decode_9p2000) {
  EXPECT_EQ(stat_size(sample, dialect::v2000), 52u);
  bytes buf(52);
  auto n = encode_stat(sample, dialect::v2000, buf);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 52u);
  EXPECT_EQ(to_hex(buf), to_hex(from_hex(sample_hex)));
  auto back = decode_stat(buf, dialect::v2000);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->size, 52u);
  EXPECT_EQ(back->value, sample);
}

TEST(stat, encode_decode_9p2000u) {
  stat s = sample;
  s.extension = "tgt";
  s.n_uid = 1000;
  s.n_gid = 100;
  EXPECT_EQ(stat_size(s, dialect::v2000u), 52u + 5 + 12);
  bytes buf(stat_size(s, dialect::v2000u));
  ASSERT_TRUE(encode_stat(s, dialect::v2000u, buf));
  EXPECT_EQ(to_hex(std::span(buf).last(17)), "03 00 74 67 74 e8 03 00 00 64 00 00 00 ff ff ff ff");
  auto back = decode_stat(buf, dialect::v2000u);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->value, s);
}

TEST(stat, directory_data_is_a_sequence_of_stats) {
  bytes dir = from_hex(std::string(sample_hex) + std::string(sample_hex));
  std::span<const std::byte> rest = dir;
  int count = 0;
  while (!rest.empty()) {
    auto e = decode_stat(rest, dialect::v2000);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->value.name, "a");
    rest = rest.subspan(e->size);
    ++count;
  }
  EXPECT_EQ(count, 2);
}

TEST(stat, size_field_checked) {
  bytes b = from_hex(sample_hex);
  b[0] = std::byte{0x31};  // one short of its fields
  EXPECT_EQ(decode_stat(b, dialect::v2000).error(), errc::bad_stat_size);
  b[0] = std::byte{0x33};  // past the end of the buffer
  EXPECT_EQ(decode_stat(b, dialect::v2000).error(), errc::field_overrun);
  b.push_back(std::byte{0});  // now within the buffer, one byte more than the fields
  EXPECT_EQ(decode_stat(b, dialect::v2000).error(), errc::bad_stat_size);
  EXPECT_EQ(decode_stat(from_hex("32"), dialect::v2000).error(), errc::field_overrun);
  EXPECT_EQ(decode_stat({}, dialect::v2000).error(), errc::field_overrun);
  // A 9P2000 stat lacks the .u fields.
  EXPECT_EQ(decode_stat(from_hex(sample_hex), dialect::v2000u).error(), errc::bad_stat_size);
}

TEST(stat, encode_buffer_too_small) {
  bytes buf(51);
  EXPECT_EQ(encode_stat(sample, dialect::v2000, buf).error(), errc::buffer_too_small);
}

TEST(stat, encode_too_large) {
  std::string big(70000, 'x');
  stat s = sample;
  s.name = big;
  bytes buf(80000);
  EXPECT_FALSE(encode_stat(s, dialect::v2000, buf));
}

TEST(stat, random_round_trip) {
  for (dialect d : {dialect::v2000, dialect::v2000u}) {
    test::random_filler fill(99, d);
    for (int i = 0; i < 500; ++i) {
      stat s;
      fill("stat", s);
      bytes buf(stat_size(s, d));
      auto n = encode_stat(s, d, buf);
      ASSERT_TRUE(n);
      ASSERT_EQ(*n, buf.size());
      auto back = decode_stat(buf, d);
      ASSERT_TRUE(back);
      EXPECT_EQ(back->value, s);
      EXPECT_EQ(back->size, buf.size());
    }
  }
}

// Regression: an empty string_view with a null data() was passed to memcpy (UBSan).
TEST(stat, default_stat_encodes) {
  stat s;
  bytes buf(stat_size(s, dialect::v2000u));
  ASSERT_TRUE(encode_stat(s, dialect::v2000u, buf));
  auto back = decode_stat(buf, dialect::v2000u);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->value, s);
}

TEST(dirent, encode_decode) {
  dirent e{{qt::dir, 0, 1}, 1, 4, "."};
  EXPECT_EQ(dirent_size(e), 25u);
  bytes buf(25);
  auto n = encode_dirent(e, buf);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 25u);
  EXPECT_EQ(to_hex(buf), to_hex(from_hex("80 00000000 0100000000000000 "
                                         "0100000000000000 04 0100 2e")));
  auto back = decode_dirent(buf);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->value, e);
  EXPECT_EQ(back->size, 25u);
  EXPECT_EQ(encode_dirent(e, std::span(buf).first(24)).error(), errc::buffer_too_small);
}

TEST(dirent, partial_is_an_error) {
  bytes b = from_hex("80 00000000 0100000000000000 0100000000000000 04 0200 2e");
  EXPECT_EQ(decode_dirent(b).error(), errc::field_overrun);
  for (std::size_t n = 0; n < 24; ++n)
    EXPECT_EQ(decode_dirent(std::span(b).first(n)).error(), errc::field_overrun) << n;
}

TEST(dirent, decodes_the_first_of_many) {
  bytes b = from_hex(
      "80 00000000 0100000000000000 0100000000000000 04 0100 2e "
      "00 00000000 0200000000000000 0200000000000000 08 0300 616263");
  auto first = decode_dirent(b);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->value.name, ".");
  auto second = decode_dirent(std::span(b).subspan(first->size));
  ASSERT_TRUE(second);
  EXPECT_EQ(second->value.name, "abc");
  EXPECT_EQ(second->value.offset, 2u);
  EXPECT_EQ(second->value.type, 8);
}

TEST(stat_mode, posix_and_dm_modes_convert_both_ways) {
  using namespace posix;
  // Every kind and special bit survives a round trip in 9P2000.u; 9P2000 keeps directories,
  // regular files and permissions only.
  for (std::uint32_t kind : {ifreg, ifdir, iflnk, ifchr, ififo, ifsock})
    for (std::uint32_t perm : {0u, 0644u, 04755u, 02750u, 01777u}) {
      const std::uint32_t m = kind | perm;
      EXPECT_EQ(posix_mode(dm_mode(m, dialect::v2000u), dialect::v2000u), m) << std::oct << m;
      const std::uint32_t plain = posix_mode(dm_mode(m, dialect::v2000), dialect::v2000);
      EXPECT_EQ(plain & 07777, perm & 0777) << std::oct << m;
      EXPECT_EQ(plain & ifmt, kind == ifdir ? ifdir : ifreg) << std::oct << m;
    }
  EXPECT_EQ(posix_mode(dm::device | 0600, dialect::v2000u, "b 8 0"), ifblk | 0600);
  EXPECT_EQ(posix_mode(dm::device | 0600, dialect::v2000u, "c 1 3"), ifchr | 0600);
  EXPECT_EQ(dm_mode(ifblk | 0600, dialect::v2000u), dm::device | 0600);
  EXPECT_EQ(dm_mode(ifdir | 0755, dialect::v2000), dm::dir | 0755);
}

}  // namespace
}  // namespace ninep::wire

TEST(stat_mode, open_modes_and_dotl_flags_convert_both_ways) {
  using namespace ninep::wire;
  EXPECT_EQ(dotl_flags(omode::read), dotl::rdonly);
  EXPECT_EQ(dotl_flags(omode::write), dotl::wronly);
  EXPECT_EQ(dotl_flags(omode::rdwr | omode::trunc), dotl::rdwr | dotl::trunc);
  EXPECT_EQ(dotl_flags(omode::exec), dotl::rdonly);                  // OEXEC reads
  EXPECT_EQ(dotl_flags(omode::read | omode::rclose), dotl::rdonly);  // the caller's business
  EXPECT_EQ(open_mode(dotl::wronly | dotl::trunc | dotl::append), omode::write | omode::trunc);
  EXPECT_EQ(open_mode(dotl::rdwr | dotl::create | dotl::excl), omode::rdwr);
  for (std::uint8_t m : {omode::read, omode::write, omode::rdwr})
    for (std::uint8_t t : {std::uint8_t{0}, omode::trunc})
      EXPECT_EQ(open_mode(dotl_flags(m | t)), m | t);
}

TEST(stat_mode, an_unchanged_stat_says_dont_touch_in_every_field) {
  const auto s = ninep::wire::stat::unchanged();
  EXPECT_EQ(s.type, 0xffff);
  EXPECT_EQ(s.dev, ~0u);
  EXPECT_EQ(s.qid.type, 0xff);
  EXPECT_EQ(s.qid.version, ~0u);
  EXPECT_EQ(s.qid.path, ~0ull);
  EXPECT_EQ(s.mode, ~0u);
  EXPECT_EQ(s.atime, ~0u);
  EXPECT_EQ(s.mtime, ~0u);
  EXPECT_EQ(s.length, ~0ull);
  EXPECT_TRUE(s.name.empty() && s.uid.empty() && s.gid.empty() && s.muid.empty());
}
