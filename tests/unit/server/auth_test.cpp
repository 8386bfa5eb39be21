// SPDX-License-Identifier: MIT
// Who attaches act as (server::identity_options) and the Tauth/afid protocol, in process over
// real sockets. Cases that need other users or munged are in
// tests/integration/server/identity-test.sh.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <ninep/fs/local.hpp>
#include <ninep/server/server.hpp>
#include <ninep/wire/dotl.hpp>

#include "../../support/raw_client.hpp"
#include "../../support/server_harness.hpp"

namespace ninep {
namespace {

using namespace wire;
using test::as;
using test::bytes;
using test::raw_client;
using test::running_server;
namespace stdfs = std::filesystem;

struct temp_dir {
  temp_dir() {
    char tmpl[] = "/tmp/ninep-auth-test-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~temp_dir() {
    std::error_code ec;
    stdfs::remove_all(path, ec);
  }
  stdfs::path path;
};

std::shared_ptr<server::filesystem> local(const stdfs::path& dir) {
  fs::local_config c;
  c.default_dir = dir;
  c.multiuser = ::geteuid() == 0;
  auto f = fs::local_fs::make(c);
  if (!f) throw std::runtime_error(f.error().message());
  return std::shared_ptr<server::filesystem>(std::move(*f));
}

/// Options whose identity_options `set` adjusts.
template <class F>
server::options with(F set) {
  server::options o;
  set(o.identity);
  return o;
}

/// The uid owning a file made by an attach of `cl` (fid 0 attached) as `name`.
std::uint32_t owner_of_new_file(raw_client& cl, const stdfs::path& dir, std::string_view name) {
  auto w = cl.rpc(Twalk{0, 1, {}});
  as<Rwalk>(w);
  auto c = cl.rpc(Tlcreate{1, name, dotl::wronly, 0644, nofid});
  as<Rlcreate>(c);
  struct ::stat st {};
  if (::stat((dir / std::string(name)).c_str(), &st) != 0) return 0xffffffff;
  return st.st_uid;
}

class auth_test : public ::testing::Test {
 protected:
  temp_dir dir;
};

TEST_F(auth_test, tauth_without_munge_says_not_required) {
  running_server srv(local(dir.path));
  raw_client cl(srv.addr);
  cl.rpc(Tversion{8192, "9P2000.L"}, notag);
  auto r = cl.rpc(Tauth{5, "root", "", 0});
  EXPECT_EQ(raw_client::error_of(r), ENOENT) << "diod's clients read ENOENT as not required";
  // And no afid was made: attaching with it is refused.
  EXPECT_EQ(raw_client::error_of(cl.rpc(Tattach{0, 5, "root", "", 0})), EPERM);
}

TEST_F(auth_test, unauthenticated_tcp_attach_is_refused_without_no_auth) {
  running_server srv(local(dir.path), with([](auto& id) { id.allow_anonymous = false; }));
  raw_client cl(srv.addr);
  EXPECT_EQ(raw_client::error_of(cl.handshake(dialect::v2000L)), EACCES);
}

TEST_F(auth_test, anonymous_is_the_server_itself_whatever_the_client_names) {
  running_server srv(local(dir.path));  // the library's default: allow_anonymous, as itself
  raw_client cl(srv.addr);
  // Name someone that is surely not us: still served as the server's own uid.
  as<Rattach>(cl.handshake(dialect::v2000L, "", "daemon", 1));
  EXPECT_EQ(owner_of_new_file(cl, dir.path, "f"), ::geteuid());
}

TEST_F(auth_test, trust_uname_cannot_act_as_others_unless_the_server_can) {
  running_server srv(local(dir.path), with([](auto& id) {
                       id.trust_uname = true;
                       id.act_as_others = false;
                     }));
  raw_client other(srv.addr);
  EXPECT_EQ(raw_client::error_of(other.handshake(dialect::v2000L, "", "", 1)), EPERM)
      << "naming uid 1 must not be served as the server";
  raw_client self(srv.addr);
  as<Rattach>(self.handshake(dialect::v2000L, "", "", ::geteuid()));
}

TEST_F(auth_test, trust_uname_acts_as_named_when_root) {
  if (::geteuid() != 0) GTEST_SKIP() << "acting as another user needs root";
  stdfs::permissions(dir.path, stdfs::perms::all);
  running_server srv(local(dir.path), with([](auto& id) {
                       id.trust_uname = true;
                       id.act_as_others = true;
                     }));
  raw_client cl(srv.addr);
  as<Rattach>(cl.handshake(dialect::v2000L, "", "daemon", 1));
  EXPECT_EQ(owner_of_new_file(cl, dir.path, "by-daemon"), 1u);
  // Without trust_uname the same attach is the anonymous user (here: nobody).
  running_server anon(local(dir.path), with([](auto& id) {
                        id.anonymous_user = "nobody";
                        id.act_as_others = true;
                      }));
  raw_client a(anon.addr);
  as<Rattach>(a.handshake(dialect::v2000L, "", "daemon", 1));
  EXPECT_EQ(owner_of_new_file(a, dir.path, "by-nobody"), 65534u);
}

TEST_F(auth_test, afid_protocol) {
  running_server srv(local(dir.path), with([](auto& id) {
                       id.munge = true;
                       id.munge_socket = "/nonexistent/munge";
                       id.allow_anonymous = false;
                     }));
  raw_client cl(srv.addr);
  cl.rpc(Tversion{8192, "9P2000.L"}, notag);
  auto r = cl.rpc(Tauth{5, "root", "", 0});
  EXPECT_EQ(as<Rauth>(r).aqid.type, qt::auth);
  EXPECT_EQ(raw_client::error_of(cl.rpc(Tauth{5, "root", "", 0})), EBADF) << "afid in use";
  // Only Twrite, Tread, Tclunk and Tattach take an afid.
  EXPECT_EQ(raw_client::error_of(cl.rpc(Tgetattr{5, dotl::getattr_basic})), EBADF);
  EXPECT_EQ(raw_client::error_of(cl.rpc(Twalk{5, 6, {}})), EBADF);
  EXPECT_EQ(raw_client::error_of(cl.rpc(Tlopen{5, 0})), EBADF);
  EXPECT_EQ(raw_client::error_of(cl.rpc(Tstatfs{5})), EBADF);
  EXPECT_EQ(as<Rwrite>(cl.rpc(Twrite{5, 0, payload{bytes("MUNGE:")}})).count, 6u);
  EXPECT_EQ(raw_client::error_of(cl.rpc(Twrite{5, 100, payload{bytes("x")}})), EIO)
      << "written in order";
  EXPECT_EQ(as<Rwrite>(cl.rpc(Twrite{5, 6, payload{bytes("forged")}})).count, 6u);
  EXPECT_TRUE(as<Rread>(cl.rpc(Tread{5, 0, 100})).data.data.empty());
  // A credential munged cannot vouch for is refused, and does not authenticate the connection.
  EXPECT_EQ(raw_client::error_of(cl.rpc(Tattach{0, 5, "root", "", 0})), EPERM);
  EXPECT_EQ(raw_client::error_of(cl.rpc(Tattach{0, nofid, "root", "", 0})), EACCES);
  as<Rclunk>(cl.rpc(Tclunk{5}));
  EXPECT_EQ(raw_client::error_of(cl.rpc(Tattach{0, 5, "root", "", 0})), EPERM) << "clunked";
  // An ordinary fid is no afid.
  EXPECT_EQ(raw_client::error_of(cl.rpc(Tattach{0, 0, "root", "", 0})), EPERM);
  as<Rauth>(cl.rpc(Tauth{7, "root", "", 0}));
  EXPECT_EQ(raw_client::error_of(cl.rpc(Tremove{7})), EPERM);
  EXPECT_EQ(raw_client::error_of(cl.rpc(Tclunk{7})), EBADF) << "Tremove clunked it";
}

TEST_F(auth_test, unix_socket_peer_of_our_own_uid_names_its_user) {
  // The peer (this process) is the server's own uid: trusted to name its user, like the
  // server's owner running a server of its own; a non-root peer of another uid is covered by
  // identity-test.sh, which has other users.
  const std::string sock = (dir.path / "s").string();
  stdfs::create_directory(dir.path / "x");
  server::options o = with([](auto& id) { id.allow_anonymous = false; });
  o.level = server::log_level::error;
  server::file_server srv(local(dir.path / "x"), o);
  ASSERT_TRUE(srv.listen(*transport::parse_address("unix!" + sock)));
  std::thread t([&] { srv.run(); });
  {
    raw_client cl(*transport::parse_address("unix!" + sock));
    as<Rattach>(cl.handshake(dialect::v2000L, "", "", ::geteuid()));
    EXPECT_EQ(owner_of_new_file(cl, dir.path / "x", "mine"), ::geteuid());
  }
  srv.stop();
  t.join();
}

}  // namespace
}  // namespace ninep
