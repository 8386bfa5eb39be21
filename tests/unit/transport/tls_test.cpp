// SPDX-License-Identifier: MIT
// The TLS relay: mutual authentication (who is refused, and why), bytes through both relays,
// the handshake deadline, and configuration errors that name their file.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <future>
#include <ninep/core/result.hpp>
#include <ninep/transport/tls.hpp>
#include <string>
#include <thread>

namespace {

using namespace std::chrono_literals;
using ninep::transport::tls_config;
using ninep::transport::tls_peer;
using ninep::transport::tls_relay;
using outcome = ninep::result<tls_peer>;

std::string certs;  // the directory made by make-test-certs.sh

class tls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/ninep-tls-test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    certs = tmpl;
    std::string cmd = std::string(NINEP_TEST_SUPPORT "/make-test-certs.sh ") + certs;
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  static void TearDownTestSuite() { std::system(("rm -rf " + certs).c_str()); }

  static std::string f(const char* name) { return certs + "/" + name; }
  static tls_config server_config() { return {f("server.pem"), f("server.key"), f("ca.pem")}; }
  static tls_config client_config(const char* who) {
    return {f((std::string(who) + ".pem").c_str()), f((std::string(who) + ".key").c_str()),
            f("ca.pem")};
  }

  // A loopback listener; accepted sockets go to the server relay.
  int listen_fd = -1;
  int port = 0;
  void SetUp() override {
    listen_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(listen_fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ASSERT_EQ(::listen(listen_fd, 8), 0);
    socklen_t len = sizeof a;
    ::getsockname(listen_fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  void TearDown() override { ::close(listen_fd); }

  int dial() const {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    return fd;
  }

  // Accepts one connection into `srv` and returns what the server side concluded.
  std::future<outcome> serve_one(tls_relay& srv, std::chrono::milliseconds deadline = 5s) {
    auto p = std::make_shared<std::promise<outcome>>();
    auto fut = p->get_future();
    std::thread([this, &srv, deadline, p] {
      int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
      srv.accept(fd, deadline, [p](outcome r) { p->set_value(std::move(r)); });
    }).detach();
    return fut;
  }

  // A client with `cfg` dialling the server as `host` must refuse it: certificate verify failed.
  void expect_client_refuses(const tls_config& cfg, const char* host) {
    auto srv = tls_relay::make(server_config(), true);
    auto cli = tls_relay::make(cfg, false);
    ASSERT_TRUE(srv && cli);
    auto server_side = serve_one(**srv);
    auto c = (*cli)->connect(dial(), host, 5s);
    ASSERT_FALSE(c.has_value());
    EXPECT_NE(c.error().message().find("certificate verify failed"), std::string::npos)
        << c.error().message();
    EXPECT_FALSE(server_side.get().has_value());
  }
};

std::string read_n(int fd, std::size_t n) {
  std::string s(n, '\0');
  std::size_t got = 0;
  while (got < n) {
    ssize_t r = ::read(fd, s.data() + got, n - got);
    if (r <= 0) break;
    got += static_cast<std::size_t>(r);
  }
  s.resize(got);
  return s;
}

TEST_F(tls, mutual_authentication_relays_bytes_and_reports_the_subject) {
  auto srv = tls_relay::make(server_config(), true);
  ASSERT_TRUE(srv.has_value()) << srv.error();
  auto cli = tls_relay::make(client_config("alice"), false);
  ASSERT_TRUE(cli.has_value()) << cli.error();
  auto server_side = serve_one(**srv);
  auto c = (*cli)->connect(dial(), "localhost", 5s);
  ASSERT_TRUE(c.has_value()) << c.error().message();
  auto s = server_side.get();
  ASSERT_TRUE(s.has_value()) << s.error().message();
  EXPECT_EQ(s->subject, "CN=alice");
  EXPECT_EQ(c->subject, "CN=localhost");

  // Large enough to cross the relays in several chunks, both ways.
  std::string big(3 << 20, 'x');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  std::thread writer(
      [&] { ASSERT_EQ(::write(c->fd, big.data(), big.size()), (ssize_t)big.size()); });
  EXPECT_EQ(read_n(s->fd, big.size()), big);
  writer.join();
  ASSERT_EQ(::write(s->fd, "pong", 4), 4);
  EXPECT_EQ(read_n(c->fd, 4), "pong");
  // The client hangs up: the server's plaintext end sees end of stream.
  ::close(c->fd);
  char b;
  EXPECT_EQ(::read(s->fd, &b, 1), 0);
  ::close(s->fd);
}

TEST_F(tls, the_server_verifies_by_ip_address_too) {
  auto srv = tls_relay::make(server_config(), true);
  auto cli = tls_relay::make(client_config("bob"), false);
  ASSERT_TRUE(srv && cli);
  auto server_side = serve_one(**srv);
  auto c = (*cli)->connect(dial(), "127.0.0.1", 5s);
  ASSERT_TRUE(c.has_value()) << c.error().message();
  auto s = server_side.get();
  ASSERT_TRUE(s.has_value()) << s.error().message();
  EXPECT_EQ(s->subject, "CN=bob");
  ::close(c->fd);
  ::close(s->fd);
}

TEST_F(tls, a_client_without_a_certificate_is_refused) {
  auto srv = tls_relay::make(server_config(), true);
  auto cli = tls_relay::make({"", "", f("ca.pem")}, false);
  ASSERT_TRUE(srv && cli);
  auto server_side = serve_one(**srv);
  auto c = (*cli)->connect(dial(), "localhost", 5s);
  auto s = server_side.get();
  ASSERT_FALSE(s.has_value());
  EXPECT_NE(s.error().message().find("certificate"), std::string::npos) << s.error().message();
  // TLS 1.3: the client may learn of the refusal only at its first read.
  if (c) {
    char b;
    EXPECT_LE(::read(c->fd, &b, 1), 0);
    ::close(c->fd);
  }
}

TEST_F(tls, a_certificate_from_another_ca_is_refused) {
  auto srv = tls_relay::make(server_config(), true);
  // mallory's certificate says CN=alice, but another CA signed it.
  auto cli = tls_relay::make({f("mallory.pem"), f("mallory.key"), f("ca.pem")}, false);
  ASSERT_TRUE(srv && cli);
  auto server_side = serve_one(**srv);
  auto c = (*cli)->connect(dial(), "localhost", 5s);
  auto s = server_side.get();
  ASSERT_FALSE(s.has_value());
  EXPECT_NE(s.error().message().find("certificate"), std::string::npos) << s.error().message();
  if (c) ::close(c->fd);
}

TEST_F(tls, the_client_refuses_a_server_it_cannot_verify) {
  expect_client_refuses({f("alice.pem"), f("alice.key"), f("other-ca.pem")}, "localhost");
}

TEST_F(tls, the_client_checks_the_host_name) {
  expect_client_refuses(client_config("alice"), "not-the-server.example");
}

TEST_F(tls, a_silent_peer_is_dropped_at_the_handshake_deadline) {
  auto srv = tls_relay::make(server_config(), true);
  ASSERT_TRUE(srv);
  auto server_side = serve_one(**srv, 300ms);
  int fd = dial();  // connects, never says hello
  ASSERT_EQ(server_side.wait_for(10s), std::future_status::ready);
  auto s = server_side.get();
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error(), std::errc::timed_out);
  char b;
  EXPECT_EQ(::read(fd, &b, 1), 0) << "the server closed the connection";
  ::close(fd);
}

TEST_F(tls, configuration_errors_name_the_file) {
  auto missing = tls_relay::make({f("nope.pem"), f("server.key"), f("ca.pem")}, true);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error(), f("nope.pem") + ": No such file or directory");
  auto mismatch = tls_relay::make({f("server.pem"), f("alice.key"), f("ca.pem")}, true);
  ASSERT_FALSE(mismatch.has_value());
  EXPECT_NE(mismatch.error().find(f("alice.key")), std::string::npos) << mismatch.error();
  auto no_ca = tls_relay::make({f("server.pem"), f("server.key"), ""}, true);
  ASSERT_FALSE(no_ca.has_value());
  EXPECT_NE(no_ca.error().find("client CA"), std::string::npos);
  auto not_pem = tls_relay::make({f("server.ext"), f("server.key"), f("ca.pem")}, true);
  ASSERT_FALSE(not_pem.has_value());
  EXPECT_NE(not_pem.error().find(f("server.ext")), std::string::npos) << not_pem.error();
}

}  // namespace
