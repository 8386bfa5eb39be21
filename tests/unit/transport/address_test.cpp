// SPDX-License-Identifier: MIT
// Dial strings and host:port forms: every accepted form with what it means, every refused one.
#include <gtest/gtest.h>

#include <asio/io_context.hpp>
#include <cerrno>
#include <ninep/core/error.hpp>
#include <ninep/transport/address.hpp>
#include <string>

namespace {

using ninep::transport::address;
using ninep::transport::parse_address;

address tcp(std::string host, std::string port) {
  return {address::kind::tcp, std::move(host), std::move(port), {}};
}
address unix_at(std::string path) { return {address::kind::unix_socket, {}, {}, std::move(path)}; }

struct accepted_case {
  const char* text;
  address want;
};

TEST(parse_address, accepts_every_documented_form) {
  const accepted_case cases[] = {
      {"tcp!127.0.0.1!5640", tcp("127.0.0.1", "5640")},
      {"net!example.org!9pfs", tcp("example.org", "9pfs")},
      {"tcp4!10.0.0.1!1", tcp("10.0.0.1", "1")},
      {"tcp6!::1!564", tcp("::1", "564")},
      {"tcp!host", tcp("host", "564")},   // the port defaults to 9pfs (564)
      {"tcp!*!5640", tcp("::", "5640")},  // Plan 9's "any address"
      {"unix!/run/9p.sock", unix_at("/run/9p.sock")},
      {"unix!rel/sock", unix_at("rel/sock")},  // relative paths after unix! are kept
      {"/tmp/s", unix_at("/tmp/s")},           // a bare path is a unix socket
      {"./s", unix_at("./s")},
      {"127.0.0.1:5640", tcp("127.0.0.1", "5640")},
      {"localhost", tcp("localhost", "564")},
      {"[::1]:5640", tcp("::1", "5640")},
      {"[fe80::1]", tcp("fe80::1", "564")},
      {"::1", tcp("::1", "564")},  // a bare IPv6 literal, no port
  };
  for (const auto& c : cases) {
    auto a = parse_address(c.text);
    ASSERT_TRUE(a.has_value()) << c.text;
    EXPECT_EQ(*a, c.want) << c.text;
  }
}

TEST(parse_address, default_port_is_the_callers) {
  EXPECT_EQ(*parse_address("tcp!h", "5641"), tcp("h", "5641"));
  EXPECT_EQ(*parse_address("h", "5641"), tcp("h", "5641"));
  EXPECT_EQ(*parse_address("[::1]", "5641"), tcp("::1", "5641"));
}

TEST(parse_address, refuses_malformed_forms) {
  const char* refused[] = {
      "",           // nothing
      "unix!",      // no path
      "udp!h!1",    // not a stream network
      "tcp!!1",     // no host
      "tcp!h!",     // empty port
      "tcp!h!1!x",  // a fourth field
      "h:",         // empty port
      ":5640",      // empty host
      "[::1",       // unclosed bracket
      "[]:1",       // empty bracketed host
      "[::1]x",     // junk after the bracket
      "[::1]:",     // empty port after the bracket
  };
  for (const char* s : refused) {
    auto a = parse_address(s);
    ASSERT_FALSE(a.has_value()) << s << " was accepted";
    EXPECT_EQ(a.error(), make_error_code(ninep::errc::bad_address)) << s;
  }
}

TEST(parse_address, to_string_round_trips) {
  for (const char* s : {"tcp!127.0.0.1!5640", "unix!/run/9p.sock", "tcp!::1!564"}) {
    auto a = parse_address(s);
    ASSERT_TRUE(a.has_value()) << s;
    EXPECT_EQ(ninep::transport::to_string(*a), s);
    EXPECT_EQ(*parse_address(ninep::transport::to_string(*a)), *a);
  }
}

TEST(dial, refused_port_is_an_error_not_a_hang) {
  asio::io_context io;
  // Listen, learn the port, close: connecting to it is then refused at once.
  auto l = ninep::transport::listen(io, tcp("127.0.0.1", "0"));
  ASSERT_TRUE(l.has_value());
  address bound = l->bound;
  l->socket.close();
  auto s = ninep::transport::dial(io, bound);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().value(), ECONNREFUSED) << s.error().message();  // asio.system category
}

}  // namespace
