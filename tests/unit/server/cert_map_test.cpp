// SPDX-License-Identifier: MIT
#include <gtest/gtest.h>

#include <ninep/server/cert_map.hpp>

namespace {

using ninep::server::cert_map;
using users = std::vector<std::string>;

TEST(cert_map, grants_by_exact_subject_in_file_order) {
  auto m = cert_map::parse(
      "# who may be whom\n"
      "alice CN=alice,O=Example\n"
      "\n"
      "  bob\tCN=bob,O=Example  \n"
      "backup CN=alice,O=Example\n",
      "users");
  ASSERT_TRUE(m.has_value()) << m.error();
  EXPECT_EQ(m->users("CN=alice,O=Example"), (users{"alice", "backup"}));
  EXPECT_EQ(m->users("CN=bob,O=Example"), (users{"bob"}));
  EXPECT_EQ(m->users("CN=alice"), users{}) << "a prefix of a subject is another subject";
  EXPECT_EQ(m->users("cn=alice,o=example"), users{}) << "compared exactly";
  EXPECT_EQ(m->users(""), users{});
}

TEST(cert_map, malformed_lines_name_file_and_line) {
  auto no_subject = cert_map::parse("alice CN=alice\nbob\n", "/etc/9p/users");
  ASSERT_FALSE(no_subject.has_value());
  EXPECT_EQ(no_subject.error().rfind("/etc/9p/users:2: expected USER SUBJECT", 0), 0u)
      << no_subject.error();
  auto not_a_subject = cert_map::parse("alice alice\n", "f");
  ASSERT_FALSE(not_a_subject.has_value());
  EXPECT_EQ(not_a_subject.error().rfind("f:1: 'alice' is not an RFC 2253 subject", 0), 0u)
      << not_a_subject.error();
}

TEST(cert_map, missing_file_is_named) {
  auto m = cert_map::load("/nonexistent/users");
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error(), "/nonexistent/users: No such file or directory");
}

}  // namespace
