// SPDX-License-Identifier: MIT
// messages.hpp: which messages each dialect has, their names and wire types.
#include <gtest/gtest.h>

#include <ninep/wire/messages.hpp>
#include <set>

#include "wire_test_util.hpp"

namespace ninep::wire {
namespace {

int count_in(dialect d) {
  int n = 0;
  for (int t = 0; t < 256; ++t) n += in_dialect(static_cast<std::uint8_t>(t), d);
  return n;
}

TEST(messages, dialect_membership) {
  EXPECT_EQ(count_in(dialect::v2000), 27);
  EXPECT_EQ(count_in(dialect::v2000u), 27);
  EXPECT_EQ(count_in(dialect::v2000L), 57);
  for (int t = 100; t < 128; ++t) {
    auto u = static_cast<std::uint8_t>(t);
    EXPECT_EQ(in_dialect(u, dialect::v2000), t != 106) << t;
    EXPECT_EQ(in_dialect(u, dialect::v2000), in_dialect(u, dialect::v2000u)) << t;
  }
  // 9P2000.L replaces open/create, stat/wstat and Rerror; keeps the rest of 9P2000.
  for (auto t :
       {msg_type::Topen, msg_type::Ropen, msg_type::Tcreate, msg_type::Rcreate, msg_type::Tstat,
        msg_type::Rstat, msg_type::Twstat, msg_type::Rwstat, msg_type::Rerror})
    EXPECT_FALSE(in_dialect(static_cast<std::uint8_t>(t), dialect::v2000L))
        << type_name(static_cast<std::uint8_t>(t));
  for (auto t : {msg_type::Tversion, msg_type::Tauth, msg_type::Tattach, msg_type::Tflush,
                 msg_type::Twalk, msg_type::Tread, msg_type::Twrite, msg_type::Tclunk,
                 msg_type::Tremove, msg_type::Rlerror, msg_type::Treaddir, msg_type::Tfsync})
    EXPECT_TRUE(in_dialect(static_cast<std::uint8_t>(t), dialect::v2000L));
  for (dialect d : test::all_dialects) {
    EXPECT_FALSE(in_dialect(6, d));    // Tlerror
    EXPECT_FALSE(in_dialect(106, d));  // Terror
  }
}

TEST(messages, every_alternative_is_in_some_dialect_once) {
  std::set<int> types;
  test::for_each_type([&]<class M>() {
    auto t = static_cast<std::uint8_t>(M::type);
    EXPECT_TRUE(types.insert(t).second) << M::spec_name;
    bool any = false;
    for (dialect d : test::all_dialects) any = any || in_dialect(t, d);
    EXPECT_TRUE(any) << M::spec_name;
    EXPECT_EQ(type_name(t), M::spec_name);
    EXPECT_EQ(type_of(M{}), M::type);
    // T-messages are even, R-messages odd.
    EXPECT_EQ(t % 2 == 1, M::spec_name[0] == 'R') << M::spec_name;
  });
  EXPECT_EQ(types.size(), 66u);
}

TEST(messages, type_names) {
  EXPECT_EQ(type_name(110), "Twalk");
  EXPECT_EQ(type_name(106), "Terror");
  EXPECT_EQ(type_name(6), "Tlerror");
  EXPECT_EQ(type_name(0), "");
  EXPECT_EQ(type_name(128), "");
  EXPECT_EQ(type_name(255), "");
}

TEST(messages, equality_compares_views_by_content) {
  std::string a = "usr", b = "usr";
  EXPECT_EQ((message{1, Twalk{1, 2, {a}}}), (message{1, Twalk{1, 2, {b}}}));
  EXPECT_NE((message{1, Twalk{1, 2, {a}}}), (message{2, Twalk{1, 2, {b}}}));
  EXPECT_NE((message{1, Tclunk{1}}), (message{1, Tremove{1}}));
}

}  // namespace
}  // namespace ninep::wire
