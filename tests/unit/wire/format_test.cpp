// SPDX-License-Identifier: MIT
// format.hpp: the exact one-line traces.
#include <gtest/gtest.h>

#include <cerrno>
#include <ninep/wire/format.hpp>
#include <string>

#include "wire_test_util.hpp"

namespace ninep::wire {
namespace {

std::string line(const message& m, dialect d = dialect::v2000) {
  return fmt::format("{}", trace(m, d));
}

TEST(format, twalk) {
  EXPECT_EQ(line({3, Twalk{1, 2, {"usr", "lib"}}}),
            R"(Twalk tag 3 fid 1 newfid 2 nwname 2 "usr" "lib")");
  EXPECT_EQ(line({3, Twalk{1, 2, {}}}), "Twalk tag 3 fid 1 newfid 2 nwname 0");
}

TEST(format, version) {
  EXPECT_EQ(line({notag, Tversion{8192, "9P2000"}}),
            R"(Tversion tag 65535 msize 8192 version "9P2000")");
  EXPECT_EQ(line({notag, Rversion{65536, "9P2000.L"}}, dialect::v2000L),
            R"(Rversion tag 65535 msize 65536 version "9P2000.L")");
}

TEST(format, qids) {
  EXPECT_EQ(line({1, Rwalk{{{qt::dir, 0, 3}, {qt::file, 7, 0x1234}}}}),
            "Rwalk tag 1 nwqid 2 (0000000000000003 0 d) (0000000000001234 7 f)");
  EXPECT_EQ(line({1, Rattach{{qt::dir | qt::append, 1, 2}}}),
            "Rattach tag 1 qid (0000000000000002 1 da)");
}

TEST(format, dialect_fields) {
  message tattach{1, Tattach{1, nofid, "glenda", "", 1000}};
  EXPECT_EQ(line(tattach, dialect::v2000),
            R"(Tattach tag 1 fid 1 afid 4294967295 uname "glenda" aname "")");
  EXPECT_EQ(line(tattach, dialect::v2000L),
            R"(Tattach tag 1 fid 1 afid 4294967295 uname "glenda" aname "" n_uname 1000)");
  // The plain message formatter prints as 9P2000.L.
  EXPECT_EQ(fmt::format("{}", tattach), line(tattach, dialect::v2000L));

  message rerror{1, Rerror{"file does not exist", ENOENT}};
  EXPECT_EQ(line(rerror, dialect::v2000), R"(Rerror tag 1 ename "file does not exist")");
  EXPECT_EQ(line(rerror, dialect::v2000u), R"(Rerror tag 1 ename "file does not exist" errno 2)");
  EXPECT_EQ(line({1, Rlerror{ENOENT}}, dialect::v2000L), "Rlerror tag 1 ecode 2");
}

TEST(format, modes_in_octal_flags_in_hex) {
  EXPECT_EQ(line({1, Tcreate{1, "f", 0644, 1, "x"}}, dialect::v2000u),
            R"(Tcreate tag 1 fid 1 name "f" perm 0644 mode 01 extension "x")");
  EXPECT_EQ(line({1, Tlopen{1, 0x8002}}, dialect::v2000L), "Tlopen tag 1 fid 1 flags 0x8002");
  EXPECT_EQ(line({1, Tgetattr{1, 0x3fff}}, dialect::v2000L),
            "Tgetattr tag 1 fid 1 request_mask 0x3fff");
}

TEST(format, payloads) {
  EXPECT_EQ(line({1, Rread{{test::as_bytes("hi")}}}), R"(Rread tag 1 count 2 "hi")");
  EXPECT_EQ(line({1, Twrite{1, 0, {test::as_bytes("0123456789abcdefghijklmnopqrstuvwxyz")}}}),
            R"(Twrite tag 1 fid 1 offset 0 count 36 "0123456789abcdefghijklmn"...)");
  EXPECT_EQ(line({1, Rread{}}), R"(Rread tag 1 count 0 "")");
}

TEST(format, escapes) {
  using namespace std::string_view_literals;
  EXPECT_EQ(line({1, Rerror{"a\"b\\c\x01\x7f\0"sv}}),
            R"(Rerror tag 1 ename "a\"b\\c\x01\x7f\x00")");
}

// Regression: bytes that are not UTF-8 went out raw, so a trace line was not valid text.
TEST(format, output_is_utf8) {
  using namespace std::string_view_literals;
  EXPECT_EQ(line({1, Rreadlink{"caf\xc3\xa9"}}, dialect::v2000L),
            R"(Rreadlink tag 1 target "café")");
  EXPECT_EQ(line({1, Rreadlink{"\xff\xc3(\xe2\x82\xac\xed\xa0\x80\xc0\xaf"}}, dialect::v2000L),
            R"(Rreadlink tag 1 target "\xff\xc3(€\xed\xa0\x80\xc0\xaf")");
  // A multi-byte character cut by the preview's end is escaped, not split.
  std::string text = std::string(23, 'a') + "\xc3\xa9";
  EXPECT_EQ(line({1, Rread{{test::as_bytes(text)}}}),
            R"(Rread tag 1 count 25 "aaaaaaaaaaaaaaaaaaaaaaa\xc3"...)");
}

// Regression: a payload preview with U+0085 (NEL) or U+2028/U+2029 broke a trace line in two
// for readers that split on Unicode line ends (Python's splitlines: client.trace failed in CI).
// C1 controls and those separators are escaped byte by byte.
TEST(format, one_line_for_unicode_line_ends) {
  EXPECT_EQ(line({1, Rreadlink{"a\xc2\x85"
                               "b\xe2\x80\xa8"
                               "c\xe2\x80\xa9"
                               "d\xc2\x9f\xc2\xa0"}},
                 dialect::v2000L),
            R"(Rreadlink tag 1 target "a\xc2\x85b\xe2\x80\xa8c\xe2\x80\xa9d\xc2\x9f)"
            "\xc2\xa0\"");  // U+00A0 is no line end: kept
}

TEST(format, rreaddir_lists_dirents) {
  auto data =
      test::keep(test::from_hex("80 00000000 0100000000000000 0100000000000000 04 0100 2e "
                                "00 00000000 0200000000000000 0200000000000000 08 0100 61"));
  EXPECT_EQ(line({1, Rreaddir{{data}}}, dialect::v2000L),
            "Rreaddir tag 1 count 50 { qid (0000000000000001 0 d) offset 1 type 4 name \".\" } "
            "{ qid (0000000000000002 0 f) offset 2 type 8 name \"a\" }");
  EXPECT_EQ(line({1, Rreaddir{}}, dialect::v2000L), "Rreaddir tag 1 count 0");
  // Not whole dirents (only possible for a message built by hand): the byte preview.
  EXPECT_EQ(line({1, Rreaddir{{test::as_bytes("hi")}}}, dialect::v2000L),
            R"(Rreaddir tag 1 count 2 "hi")");
}

TEST(format, stat) {
  stat s{.qid = {qt::file, 0, 1}, .mode = 0644, .name = "a", .uid = "u", .gid = "g"};
  EXPECT_EQ(line({1, Rstat{s}}),
            "Rstat tag 1 stat { type 0 dev 0 qid (0000000000000001 0 f) mode 0644 atime 0 "
            "mtime 0 length 0 name \"a\" uid \"u\" gid \"g\" muid \"\" }");
}

TEST(format, every_message_formats) {
  for (dialect d : test::all_dialects) {
    test::for_each_type([&]<class M>() {
      if (!in_dialect(static_cast<std::uint8_t>(M::type), d)) return;
      test::random_filler fill(5, d);
      std::string s = line(fill.make<M>(), d);
      EXPECT_EQ(s.rfind(M::spec_name, 0), 0u) << s;
      EXPECT_EQ(s.find('\n'), std::string::npos) << s;
    });
  }
}

TEST(format, format_message_appends) {
  fmt::memory_buffer b;
  fmt::format_to(std::back_inserter(b), "-> ");
  format_message(b, {2, Tclunk{7}}, dialect::v2000);
  EXPECT_EQ(fmt::to_string(b), "-> Tclunk tag 2 fid 7");
}

}  // namespace
}  // namespace ninep::wire
