// SPDX-License-Identifier: MIT
#include <gtest/gtest.h>

#include <array>
#include <ninep/client/tag_table.hpp>
#include <ninep/core/error.hpp>
#include <ninep/wire/codec.hpp>
#include <vector>

namespace ninep::client {
namespace {

std::vector<std::byte> frame(const wire::message& m, wire::dialect d = wire::dialect::v2000L) {
  std::vector<std::byte> out(wire::encoded_size(m, d));
  auto n = wire::encode(m, d, out);
  EXPECT_TRUE(n.has_value());
  return out;
}

TEST(TagTable, ReservesDistinctTagsAndReusesAfterRelease) {
  tag_table t(3);
  auto a = t.reserve({wire::msg_type::Rwalk, 0});
  auto b = t.reserve({wire::msg_type::Rwalk, 0});
  auto c = t.reserve({wire::msg_type::Rwalk, 0});
  ASSERT_TRUE(a && b && c);
  EXPECT_NE(*a, *b);
  EXPECT_NE(*b, *c);
  EXPECT_FALSE(t.reserve({wire::msg_type::Rwalk, 0}).has_value());
  t.release(*b);
  auto d = t.reserve({wire::msg_type::Rwalk, 0});
  ASSERT_TRUE(d);
  EXPECT_EQ(*d, *b);
}

TEST(TagTable, ExpectationComesFromTheRequest) {
  auto e = expectation_for(wire::Tread{1, 0, 100});
  EXPECT_EQ(e.reply, wire::msg_type::Rread);
  EXPECT_EQ(e.max_count, 100u);
  EXPECT_EQ(expectation_for(wire::Twalk{}).reply, wire::msg_type::Rwalk);
  EXPECT_EQ(expectation_for(wire::Tgetattr{}).reply, wire::msg_type::Rgetattr);
}

TEST(TagTable, MatchesTheExpectedReply) {
  tag_table t;
  t.configure(wire::dialect::v2000L, 8192);
  auto tag = t.reserve({wire::msg_type::Rclunk, 0});
  ASSERT_TRUE(tag);
  auto f = frame({*tag, wire::Rclunk{}});
  auto m = t.match(f);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->tag, *tag);
  ASSERT_TRUE(m->reply);
  EXPECT_TRUE(std::holds_alternative<wire::Rclunk>(m->reply->body));
}

TEST(TagTable, UnknownTagIsAConnectionError) {
  tag_table t;
  t.configure(wire::dialect::v2000L, 8192);
  auto f = frame({7, wire::Rclunk{}});
  auto m = t.match(f);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error(), errc::unexpected_reply);
}

TEST(TagTable, WrongTypeFailsTheCall) {
  tag_table t;
  t.configure(wire::dialect::v2000L, 8192);
  auto tag = t.reserve({wire::msg_type::Rwalk, 0});
  auto f = frame({*tag, wire::Rclunk{}});
  auto m = t.match(f);
  ASSERT_TRUE(m);
  ASSERT_FALSE(m->reply);
  EXPECT_EQ(m->reply.error(), errc::unexpected_reply);
}

TEST(TagTable, ErrorRepliesCarryTheErrno) {
  tag_table t;
  t.configure(wire::dialect::v2000L, 8192);
  auto tag = t.reserve({wire::msg_type::Rwalk, 0});
  auto f = frame({*tag, wire::Rlerror{ENOENT}});
  auto m = t.match(f);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->reply.error(), std::errc::no_such_file_or_directory);

  tag_table u;
  u.configure(wire::dialect::v2000, 8192);
  auto tag2 = u.reserve({wire::msg_type::Rwalk, 0});
  wire::Rerror e;
  e.ename = "file does not exist";
  auto f2 = frame({*tag2, e}, wire::dialect::v2000);
  auto m2 = u.match(f2);
  ASSERT_TRUE(m2);
  EXPECT_EQ(m2->reply.error(), std::errc::no_such_file_or_directory);
}

TEST(TagTable, OversizedReadCountIsRejected) {
  tag_table t;
  t.configure(wire::dialect::v2000L, 8192);
  auto tag = t.reserve(expectation_for(wire::Tread{1, 0, 4}));
  std::array<std::byte, 8> data{};
  auto f = frame({*tag, wire::Rread{wire::payload{data}}});
  auto m = t.match(f);
  ASSERT_TRUE(m);
  ASSERT_FALSE(m->reply);
  EXPECT_EQ(m->reply.error(), errc::unexpected_reply);
}

TEST(TagTable, TruncatedOrLyingFramesAreErrors) {
  tag_table t;
  t.configure(wire::dialect::v2000L, 8192);
  auto tag = t.reserve({wire::msg_type::Rwalk, 0});
  auto f = frame({*tag, wire::Rwalk{}});
  f.pop_back();  // size field now disagrees with the bytes
  EXPECT_FALSE(t.match(f).has_value());
  std::vector<std::byte> tiny(3);
  EXPECT_FALSE(t.match(tiny).has_value());
  // A count that runs past the frame.
  auto g = frame({*tag, wire::Rwalk{}});
  g[7] = std::byte{5};
  auto m = t.match(g);
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->reply.has_value());
}

}  // namespace
}  // namespace ninep::client
