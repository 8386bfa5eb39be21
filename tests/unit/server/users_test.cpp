// SPDX-License-Identifier: MIT
// server::user_db against this host's own user database (getpwuid/getgrgid answer for root on
// every Debian machine; the ids it has no entry for are chosen far above any real one).
#include <grp.h>
#include <gtest/gtest.h>
#include <pwd.h>

#include <ninep/server/users.hpp>
#include <string>

namespace ninep::server {
namespace {

constexpr std::uint32_t unknown_id = 3'999'999'999u;

TEST(user_db, id_names_come_from_the_host_database_or_are_the_number) {
  user_db db;
  EXPECT_EQ(db.id_name(0, false), ::getpwuid(0)->pw_name);
  EXPECT_EQ(db.id_name(0, true), ::getgrgid(0)->gr_name);
  EXPECT_EQ(db.id_name(unknown_id, false), std::to_string(unknown_id));
  EXPECT_EQ(db.id_name(unknown_id, true), std::to_string(unknown_id));
  // Asked twice (the second from the cache), the same answer.
  EXPECT_EQ(db.id_name(0, true), db.id_name(0, true));
}

TEST(user_db, id_of_reads_numbers_and_known_names_only) {
  user_db db;
  EXPECT_EQ(db.id_of(::getpwuid(0)->pw_name, false), 0u);
  EXPECT_EQ(db.id_of(::getgrgid(0)->gr_name, true), 0u);
  EXPECT_EQ(db.id_of("1234", false), 1234u);
  EXPECT_EQ(db.id_of("1234", true), 1234u);
  EXPECT_EQ(db.id_of("no-such-user-here", false), std::nullopt);
  EXPECT_EQ(db.id_of("no-such-group-here", true), std::nullopt);
  EXPECT_EQ(db.id_of("", true), std::nullopt);
  EXPECT_EQ(db.id_of("12x", true), std::nullopt);
}

}  // namespace
}  // namespace ninep::server
