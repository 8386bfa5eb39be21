// SPDX-License-Identifier: MIT
// The server framework against real sockets, with the local-directory backend and with test
// backends that stall. Every test speaks raw 9P through tests/support/raw_client.hpp.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <ninep/fs/local.hpp>
#include <ninep/server/server.hpp>
#include <ninep/wire/dotl.hpp>
#include <ninep/wire/format.hpp>
#include <set>
#include <thread>

#include "../../support/local_harness.hpp"
#include "../../support/raw_client.hpp"
#include "../../support/server_harness.hpp"

namespace ninep {
namespace {

using namespace wire;
using test::as;
using test::bytes;
using test::local;
using test::raw_client;
using test::running_server;
using test::temp_dir;
using test::text;
namespace stdfs = std::filesystem;

class server_test : public ::testing::Test {
 protected:
  temp_dir dir;
  running_server srv{local(dir.path)};
  void put(const std::string& name, const std::string& content) {
    std::ofstream(dir.path / name) << content;
  }
};

TEST_F(server_test, version_negotiation) {
  struct {
    std::string_view ask;
    std::string_view want;
  } cases[] = {{"9P2000.L", "9P2000.L"},   {"9P2000.u", "9P2000.u"}, {"9P2000", "9P2000"},
               {"9P2000.X", "9P2000"},     {"9P1999", "unknown"},    {"", "unknown"},
               {"9P2000.L.x", "9P2000.L"}, {"9P2000.", "9P2000"},    {"9P2000x", "unknown"}};
  for (auto c : cases) {
    raw_client cl(srv.addr);
    auto r = cl.rpc(Tversion{8192, c.ask}, notag);
    EXPECT_EQ(as<Rversion>(r).version, c.want) << c.ask;
    if (c.want != "unknown") {
      EXPECT_EQ(as<Rversion>(r).msize, 8192u) << "server must clamp to the client's msize";
    }
  }
  raw_client big(srv.addr);
  auto r = big.rpc(Tversion{64u << 20, "9P2000.L"}, notag);
  EXPECT_EQ(as<Rversion>(r).msize, 1u << 20) << "never raised above the server's maximum";
}

TEST(log_level, names_round_trip) {
  for (auto l : {server::log_level::error, server::log_level::warn, server::log_level::info,
                 server::log_level::debug, server::log_level::trace})
    EXPECT_EQ(server::log_level_of(server::log_level_name(l)), l);
  EXPECT_EQ(server::log_level_name(server::log_level::warn), "warn");
  EXPECT_EQ(server::log_level_of("warning"), std::nullopt);
  EXPECT_EQ(server::log_level_of(""), std::nullopt);
}

TEST_F(server_test, request_before_version_is_refused) {
  raw_client cl(srv.addr);
  cl.dialect = dialect::v2000;
  auto r = cl.rpc(Tattach{0, nofid, "u", "", 0});
  EXPECT_TRUE(std::holds_alternative<Rerror>(r.body));
}

TEST_F(server_test, read_write_dotl) {
  put("hello", "hello, world\n");
  raw_client cl(srv.addr);
  cl.handshake(dialect::v2000L);
  auto w = cl.rpc(Twalk{0, 1, {"hello"}});
  ASSERT_EQ(as<Rwalk>(w).qids.size(), 1u);
  auto o = cl.rpc(Tlopen{1, dotl::rdwr});
  EXPECT_EQ(as<Rlopen>(o).qid.type, qt::file);
  EXPECT_GT(as<Rlopen>(o).iounit, 0u);
  auto rd = cl.rpc(Tread{1, 0, 100});
  EXPECT_EQ(text(as<Rread>(rd).data.data), "hello, world\n");
  auto wr = cl.rpc(Twrite{1, 7, payload{bytes("there")}});
  EXPECT_EQ(as<Rwrite>(wr).count, 5u);
  as<Rclunk>(cl.rpc(Tclunk{1}));
  std::ifstream in(dir.path / "hello");
  std::string all((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(all, "hello, there\n");
}

TEST_F(server_test, protocol_checks_before_backend) {
  put("f", "x");
  raw_client cl(srv.addr);
  cl.handshake(dialect::v2000L);
  EXPECT_EQ(raw_client::error_of(cl.rpc(Tgetattr{42, dotl::getattr_basic})), EBADF)
      << "unknown fid";
  EXPECT_EQ(raw_client::error_of(cl.rpc(Tattach{0, nofid, "root", "", 0})), EBADF) << "fid in use";
  as<Rwalk>(cl.rpc(Twalk{0, 1, {"f"}}));
  EXPECT_EQ(raw_client::error_of(cl.rpc(Tread{1, 0, 10})), EBADF) << "read before open";
  as<Rlopen>(cl.rpc(Tlopen{1, dotl::rdonly}));
  EXPECT_EQ(raw_client::error_of(cl.rpc(Tlopen{1, dotl::rdonly})), EBADF) << "open twice";
  EXPECT_EQ(raw_client::error_of(cl.rpc(Twrite{1, 0, payload{bytes("y")}})), EBADF)
      << "write on a read-only open";
  EXPECT_EQ(raw_client::error_of(cl.rpc(Twalk{0, 2, {"a/b"}})), EINVAL) << "name with '/'";
  EXPECT_EQ(raw_client::error_of(cl.rpc(Tmkdir{0, "..", 0755, 0})), EINVAL);
  EXPECT_EQ(raw_client::error_of(cl.rpc(Tauth{5, "root", "", 0})), ENOENT)
      << "diod's clients take ENOENT as 'authentication not required'";
}

TEST_F(server_test, walk_open_fid_to_new_fid) {
  // Linux clones open fids (interop note 1): allowed to a different newfid only.
  raw_client cl(srv.addr);
  cl.handshake(dialect::v2000L);
  as<Rwalk>(cl.rpc(Twalk{0, 1, {}}));
  as<Rlopen>(cl.rpc(Tlopen{1, dotl::rdonly | dotl::directory}));
  auto ok = cl.rpc(Twalk{1, 2, {}});
  EXPECT_TRUE(std::holds_alternative<Rwalk>(ok.body));
  EXPECT_EQ(raw_client::error_of(cl.rpc(Twalk{1, 1, {}})), EBADF);
  // The clone is not open.
  EXPECT_EQ(raw_client::error_of(cl.rpc(Treaddir{2, 0, 1000})), EBADF);
}

TEST_F(server_test, dotdot_at_root_stays_at_root) {
  raw_client cl(srv.addr);
  auto root = as<Rattach>(cl.handshake(dialect::v2000L)).qid;
  auto w = cl.rpc(Twalk{0, 1, {"..", "..", ".."}});
  ASSERT_EQ(as<Rwalk>(w).qids.size(), 3u);
  EXPECT_EQ(as<Rwalk>(w).qids[2], root);
}

TEST_F(server_test, partial_walk) {
  stdfs::create_directory(dir.path / "d");
  raw_client cl(srv.addr);
  cl.handshake(dialect::v2000L);
  auto w = cl.rpc(Twalk{0, 1, {"d", "missing", "x"}});
  EXPECT_EQ(as<Rwalk>(w).qids.size(), 1u);
  EXPECT_EQ(raw_client::error_of(cl.rpc(Tclunk{1})), EBADF) << "newfid not created on short walk";
  EXPECT_EQ(raw_client::error_of(cl.rpc(Twalk{0, 1, {"missing"}})), ENOENT);
}

TEST_F(server_test, unlinked_open_file_keeps_working) {
  raw_client cl(srv.addr);
  cl.handshake(dialect::v2000L);
  as<Rwalk>(cl.rpc(Twalk{0, 1, {}}));
  as<Rlcreate>(cl.rpc(Tlcreate{1, "gone", dotl::rdwr, 0644, 0}));
  as<Rwrite>(cl.rpc(Twrite{1, 0, payload{bytes("still here")}}));
  as<Runlinkat>(cl.rpc(Tunlinkat{0, "gone", 0}));
  EXPECT_FALSE(stdfs::exists(dir.path / "gone"));
  auto a = cl.rpc(Tgetattr{1, dotl::getattr_basic});
  EXPECT_EQ(as<Rgetattr>(a).size, 10u);
  EXPECT_EQ(text(as<Rread>(cl.rpc(Tread{1, 0, 100})).data.data), "still here");
  Tsetattr t{};
  t.fid = 1;
  t.valid = dotl::setattr_size;
  t.size = 5;
  as<Rsetattr>(cl.rpc(t));
  EXPECT_EQ(as<Rgetattr>(cl.rpc(Tgetattr{1, dotl::getattr_basic})).size, 5u);
}

TEST_F(server_test, readdir_resumes_with_small_counts) {
  for (int i = 0; i < 2000; ++i) put(fmt::format("entry-{:05}", i), "");
  raw_client cl(srv.addr);
  cl.handshake(dialect::v2000L);
  as<Rwalk>(cl.rpc(Twalk{0, 1, {}}));
  as<Rlopen>(cl.rpc(Tlopen{1, dotl::rdonly | dotl::directory}));
  std::set<std::string> seen;
  std::uint64_t cookie = 0;
  int batches = 0;
  for (;;) {
    auto r = cl.rpc(Treaddir{1, cookie, 500});
    auto data = as<Rreaddir>(r).data.data;
    if (data.empty()) break;
    ++batches;
    while (!data.empty()) {
      auto e = decode_dirent(data);
      ASSERT_TRUE(e) << "reply must hold whole dirents";
      std::string name(e->value.name);
      if (name != "." && name != "..") {
        EXPECT_TRUE(seen.insert(name).second) << "duplicate " << name;
      }
      cookie = e->value.offset;
      data = data.subspan(e->size);
    }
  }
  EXPECT_EQ(seen.size(), 2000u);
  EXPECT_GT(batches, 20);
}

TEST_F(server_test, dir_read_as_stats_in_9p2000_and_u) {
  put("a", "12345");
  stdfs::create_directory(dir.path / "sub");
  stdfs::create_symlink("a", dir.path / "link");
  for (auto d : {dialect::v2000, dialect::v2000u}) {
    raw_client cl(srv.addr);
    cl.handshake(d, "", "root", 0);
    as<Rwalk>(cl.rpc(Twalk{0, 1, {}}));
    as<Ropen>(cl.rpc(Topen{1, 0}));
    std::map<std::string, wire::stat> got;
    std::vector<std::string> keep;  // stats borrow from the frame: copy what we check
    std::uint64_t off = 0;
    for (;;) {
      auto r = cl.rpc(Tread{1, off, 8192});
      auto data = as<Rread>(r).data.data;
      if (data.empty()) break;
      off += data.size();
      while (!data.empty()) {
        auto s = decode_stat(data, d);
        ASSERT_TRUE(s);
        got[std::string(s->value.name)] = s->value;
        if (s->value.name == "link") keep.emplace_back(s->value.extension);
        data = data.subspan(s->size);
      }
    }
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(got["a"].length, 5u);
    EXPECT_TRUE(got["sub"].mode & dm::dir);
    if (d == dialect::v2000u) {
      EXPECT_TRUE(got["link"].mode & dm::symlink);
      EXPECT_EQ(keep.at(0), "a");
    }
  }
}

// Issue 16: go-p9p's 9pr attaches with aname "/" and walks "" for "/".
TEST_F(server_test, aname_slash_is_the_default_export) {
  put("f", "x");
  for (auto d : {dialect::v2000, dialect::v2000L}) {
    raw_client cl(srv.addr);
    auto a = cl.handshake(d, "/");
    ASSERT_TRUE(std::holds_alternative<Rattach>(a.body)) << version_string(d);
    auto w = cl.rpc(Twalk{0, 1, {"f"}});
    EXPECT_EQ(as<Rwalk>(w).qids.size(), 1u);
  }
}

TEST_F(server_test, walk_of_an_empty_name_fails_and_says_why) {
  raw_client cl(srv.addr);
  cl.handshake(dialect::v2000);
  auto r = cl.rpc(Twalk{0, 1, {""}});
  ASSERT_TRUE(std::holds_alternative<Rerror>(r.body));
  EXPECT_EQ(as<Rerror>(r).ename, "walk: empty file name");
  raw_client l(srv.addr);
  l.handshake(dialect::v2000L);
  EXPECT_EQ(raw_client::error_of(l.rpc(Twalk{0, 1, {""}})), EINVAL);
}

// open(5): "It is illegal to write a directory, truncate it, or attempt to remove it on close."
TEST_F(server_test, topen_of_a_directory_for_writing_truncation_or_rclose_fails) {
  stdfs::create_directory(dir.path / "d");
  for (auto d : {dialect::v2000, dialect::v2000u}) {
    raw_client cl(srv.addr);
    cl.handshake(d);
    constexpr std::uint8_t owrite = 1, ordwr = 2, otrunc = 0x10, orclose = 0x40;
    for (std::uint8_t mode : {owrite, ordwr, std::uint8_t(otrunc), std::uint8_t(orclose)}) {
      as<Rwalk>(cl.rpc(Twalk{0, 1, {"d"}}));
      EXPECT_EQ(raw_client::error_of(cl.rpc(Topen{1, mode})), EISDIR) << int(mode);
      as<Rclunk>(cl.rpc(Tclunk{1}));
    }
    as<Rwalk>(cl.rpc(Twalk{0, 1, {"d"}}));
    as<Ropen>(cl.rpc(Topen{1, 0}));
    as<Rclunk>(cl.rpc(Tclunk{1}));
    EXPECT_TRUE(stdfs::is_directory(dir.path / "d")) << "ORCLOSE must not have removed it";
  }
}

// stat(5): "it is an error to change the name to that of an existing file".
TEST_F(server_test, twstat_rename_onto_an_existing_name_fails) {
  put("a", "aaa");
  put("b", "bbb");
  raw_client cl(srv.addr);
  cl.handshake(dialect::v2000);
  as<Rwalk>(cl.rpc(Twalk{0, 1, {"a"}}));
  wire::stat s;
  s.type = 0xffff;
  s.dev = 0xffffffff;
  s.qid = {0xff, 0xffffffff, 0xffffffffffffffff};
  s.mode = s.atime = s.mtime = 0xffffffff;
  s.length = ~0ull;
  s.name = "b";
  EXPECT_EQ(raw_client::error_of(cl.rpc(Twstat{1, s})), EEXIST);
  std::ifstream in(dir.path / "b");
  std::string all((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(all, "bbb") << "the existing file was replaced";
  EXPECT_TRUE(stdfs::exists(dir.path / "a"));
  s.name = "c";  // a free name still renames
  as<Rwstat>(cl.rpc(Twstat{1, s}));
  EXPECT_TRUE(stdfs::exists(dir.path / "c"));
  EXPECT_FALSE(stdfs::exists(dir.path / "a"));

  // 9P2000.u keeps rename(2)'s replacement: Linux's v9fs renames with Twstat there.
  raw_client u(srv.addr);
  u.handshake(dialect::v2000u);
  as<Rwalk>(u.rpc(Twalk{0, 1, {"c"}}));
  s.name = "b";
  s.n_uid = s.n_gid = s.n_muid = 0xffffffff;
  as<Rwstat>(u.rpc(Twstat{1, s}));
  std::ifstream replaced(dir.path / "b");
  EXPECT_EQ(std::string((std::istreambuf_iterator<char>(replaced)), {}), "aaa");
  EXPECT_FALSE(stdfs::exists(dir.path / "c"));
}

TEST_F(server_test, dotu_hard_link_and_symlink_via_tcreate) {
  put("target", "shared");
  raw_client cl(srv.addr);
  cl.handshake(dialect::v2000u);
  as<Rwalk>(cl.rpc(Twalk{0, 1, {"target"}}));
  as<Rwalk>(cl.rpc(Twalk{0, 2, {}}));
  // Linux v9fs (9p2000.u) links with Tcreate perm DMLINK, extension "<target fid>\n".
  as<Rcreate>(cl.rpc(Tcreate{2, "hard", dm::link | 0644, 0, "1\n"}));
  struct ::stat a {
  }, b{};
  ASSERT_EQ(::stat((dir.path / "target").c_str(), &a), 0);
  ASSERT_EQ(::stat((dir.path / "hard").c_str(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino) << "a real hard link, not a new file";
  // 9P2000.u stat has no nlink: Linux v9fs reads it from the extension.
  auto st = cl.rpc(Tstat{1});
  EXPECT_EQ(as<Rstat>(st).stat.extension, "HARDLINKCOUNT 2");
  as<Rwalk>(cl.rpc(Twalk{0, 3, {}}));
  as<Rcreate>(cl.rpc(Tcreate{3, "sym", dm::symlink | 0777, 0, "target"}));
  EXPECT_EQ(stdfs::read_symlink(dir.path / "sym"), "target");
  as<Rwalk>(cl.rpc(Twalk{0, 4, {}}));
  EXPECT_EQ(raw_client::error_of(cl.rpc(Tcreate{4, "bad", dm::link | 0644, 0, "99\n"})), EBADF);
}

TEST_F(server_test, unsupported_message_gets_error_reply) {
  raw_client cl(srv.addr);
  cl.handshake(dialect::v2000);
  // Tlopen is not a 9P2000 message: send its bytes by hand.
  cl.dialect = dialect::v2000L;
  cl.send(9, Tlopen{0, 0});
  cl.dialect = dialect::v2000;
  auto r = cl.recv();
  EXPECT_EQ(r.tag, 9);
  EXPECT_TRUE(std::holds_alternative<Rerror>(r.body));
  // And the connection is still in sync.
  EXPECT_TRUE(std::holds_alternative<Rstat>(cl.rpc(Tstat{0}).body));
}

TEST_F(server_test, malformed_frame_closes_only_that_connection) {
  raw_client good(srv.addr);
  good.handshake(dialect::v2000L);
  raw_client bad(srv.addr);
  bad.handshake(dialect::v2000L);
  // size 9, Tgetattr (needs 19 bytes): a field overruns the frame.
  const unsigned char frame[] = {9, 0, 0, 0, 24, 1, 0, 0, 0};
  bad.send_bytes(std::as_bytes(std::span(frame)));
  EXPECT_TRUE(bad.closed_by_peer());
  raw_client huge(srv.addr);
  const unsigned char too_big[] = {0xff, 0xff, 0xff, 0x7f, 100, 0xff, 0xff};
  huge.send_bytes(std::as_bytes(std::span(too_big)));
  EXPECT_TRUE(huge.closed_by_peer());
  EXPECT_TRUE(std::holds_alternative<Rgetattr>(good.rpc(Tgetattr{0, dotl::getattr_basic}).body));
}

TEST_F(server_test, xattr_transaction) {
  put("f", "");
  raw_client cl(srv.addr);
  cl.handshake(dialect::v2000L);
  as<Rwalk>(cl.rpc(Twalk{0, 1, {"f"}}));
  auto c = cl.rpc(Txattrcreate{1, "user.ninep", 5, 0});
  if (raw_client::error_of(c) != 0) GTEST_SKIP() << "no xattrs here";
  as<Rwrite>(cl.rpc(Twrite{1, 0, payload{bytes("hello")}}));
  auto clunk = cl.rpc(Tclunk{1});
  if (raw_client::error_of(clunk) == EOPNOTSUPP) GTEST_SKIP() << "fs without user xattrs";
  as<Rclunk>(clunk);
  as<Rwalk>(cl.rpc(Twalk{0, 2, {"f"}}));
  auto w = cl.rpc(Txattrwalk{2, 3, "user.ninep"});
  EXPECT_EQ(as<Rxattrwalk>(w).size, 5u);
  EXPECT_EQ(text(as<Rread>(cl.rpc(Tread{3, 0, 100})).data.data), "hello");
  // A partial write fails at clunk.
  as<Rwalk>(cl.rpc(Twalk{0, 4, {"f"}}));
  as<Rxattrcreate>(cl.rpc(Txattrcreate{4, "user.other", 10, 0}));
  as<Rwrite>(cl.rpc(Twrite{4, 0, payload{bytes("short")}}));
  EXPECT_NE(raw_client::error_of(cl.rpc(Tclunk{4})), 0);
  EXPECT_EQ(raw_client::error_of(cl.rpc(Tclunk{4})), EBADF) << "clunked even so";
}

TEST_F(server_test, zero_size_xattrcreate_removes_whatever_the_flags) {
  put("f", "");
  if (::setxattr((dir.path / "f").c_str(), "user.probe", "1", 1, 0) != 0)
    GTEST_SKIP() << "no user xattrs here";
  raw_client cl(srv.addr);
  cl.handshake(dialect::v2000L);
  // removexattr(2) on a v9fs mount sends Txattrcreate size 0 flags XATTR_REPLACE, then Tclunk.
  for (std::uint32_t flags : {0u, dotl::xattr_replace, dotl::xattr_create}) {
    SCOPED_TRACE(flags);
    ASSERT_EQ(::setxattr((dir.path / "f").c_str(), "user.x", "1", 1, 0), 0);
    as<Rwalk>(cl.rpc(Twalk{0, 1, {"f"}}));
    as<Rxattrcreate>(cl.rpc(Txattrcreate{1, "user.x", 0, flags}));
    as<Rclunk>(cl.rpc(Tclunk{1}));
    char buf[8];
    EXPECT_EQ(::getxattr((dir.path / "f").c_str(), "user.x", buf, sizeof buf), -1);
    EXPECT_EQ(errno, ENODATA) << "the attribute is gone, not set to an empty value";
  }
  // Removing one that is not there reports it, as removexattr(2) does.
  as<Rwalk>(cl.rpc(Twalk{0, 1, {"f"}}));
  as<Rxattrcreate>(cl.rpc(Txattrcreate{1, "user.x", 0, dotl::xattr_replace}));
  EXPECT_EQ(raw_client::error_of(cl.rpc(Tclunk{1})), ENODATA);
}

TEST(server_special_files, never_opened_and_never_block_a_worker) {
  temp_dir dir;
  server::options o;
  o.workers = 1;  // a FIFO open that blocked would hold the only worker
  running_server srv(local(dir.path), o);
  const auto fifo = dir.path / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0666), 0);
  std::ofstream(dir.path / "plain") << "p";
  raw_client cl(srv.addr);
  cl.handshake(dialect::v2000L);
  as<Rwalk>(cl.rpc(Twalk{0, 1, {"fifo"}}));
  as<Rwalk>(cl.rpc(Twalk{0, 2, {"plain"}}));
  cl.send(5, Tlopen{1, dotl::rdonly});
  cl.send(6, Tlopen{2, dotl::rdonly});
  std::map<tag_t, int> errs;
  try {
    for (int i = 0; i < 2; ++i) {
      auto m = cl.recv();
      errs[m.tag] = raw_client::error_of(m);
    }
  } catch (const std::exception& e) {
    ADD_FAILURE() << "no reply within the client's 10 s: " << e.what();
    ::close(::open(fifo.c_str(), O_RDWR | O_NONBLOCK));  // release the worker to shut down
  }
  EXPECT_EQ(errs[5], ENXIO) << "a FIFO is never opened by the server";
  EXPECT_EQ(errs[6], 0) << "the other open is served";
  // Tlcreate of the existing FIFO (no O_EXCL) is an open too.
  as<Rwalk>(cl.rpc(Twalk{0, 3, {}}));
  EXPECT_EQ(raw_client::error_of(cl.rpc(Tlcreate{3, "fifo", dotl::wronly, 0644, 0})), ENXIO);
  // 9P2000: Topen of it.
  raw_client old(srv.addr);
  old.handshake(dialect::v2000u);
  as<Rwalk>(old.rpc(Twalk{0, 1, {"fifo"}}));
  EXPECT_EQ(raw_client::error_of(old.rpc(Topen{1, 0})), ENXIO);
}

TEST(server_special_files, device_nodes_need_allow_devices) {
  temp_dir dir;
  running_server srv(local(dir.path));
  raw_client cl(srv.addr);
  cl.handshake(dialect::v2000L);
  EXPECT_EQ(raw_client::error_of(cl.rpc(Tmknod{0, "null", S_IFCHR | 0666, 1, 3, 0})), EPERM);
  EXPECT_EQ(raw_client::error_of(cl.rpc(Tmknod{0, "sda", S_IFBLK | 0600, 8, 0, 0})), EPERM);
  as<Rmknod>(cl.rpc(Tmknod{0, "fifo", S_IFIFO | 0600, 0, 0, 0}));
  // 9P2000.u makes devices with Tcreate DMDEVICE and "c major minor": the same check.
  raw_client u(srv.addr);
  u.handshake(dialect::v2000u);
  as<Rwalk>(u.rpc(Twalk{0, 1, {}}));
  EXPECT_EQ(raw_client::error_of(u.rpc(Tcreate{1, "unull", dm::device | 0666, 0, "c 1 3"})), EPERM);
  EXPECT_EQ(raw_client::error_of(u.rpc(Tcreate{1, "usda", dm::device | 0666, 0, "b 8 0"})), EPERM);
  as<Rcreate>(u.rpc(Tcreate{1, "ufifo", dm::namedpipe | 0666, 0, ""}));
  for (const char* n : {"null", "sda", "unull", "usda"})
    EXPECT_FALSE(stdfs::exists(stdfs::symlink_status(dir.path / n))) << n;
  EXPECT_TRUE(stdfs::is_fifo(dir.path / "fifo"));
  EXPECT_TRUE(stdfs::is_fifo(dir.path / "ufifo"));

  if (::geteuid() != 0) GTEST_SKIP() << "making device nodes needs root";
  fs::local_config c;
  c.default_dir = dir.path;
  c.allow_devices = true;
  running_server allowed(std::shared_ptr<server::filesystem>(std::move(*fs::local_fs::make(c))));
  raw_client a(allowed.addr);
  a.handshake(dialect::v2000u);
  as<Rwalk>(a.rpc(Twalk{0, 1, {}}));
  as<Rcreate>(a.rpc(Tcreate{1, "unull", dm::device | 0666, 0, "c 1 3"}));
  EXPECT_TRUE(stdfs::is_character_file(dir.path / "unull"));
  as<Rwalk>(a.rpc(Twalk{0, 2, {"unull"}}));
  EXPECT_EQ(raw_client::error_of(a.rpc(Topen{2, 0})), ENXIO) << "made, but never opened";
}

/// Sets the process umask for the life of the object (the server runs in this process).
class umask_scope {
 public:
  explicit umask_scope(mode_t m) : old_(::umask(m)) {}
  ~umask_scope() { ::umask(old_); }

 private:
  mode_t old_;
};

TEST_F(server_test, created_modes_are_exactly_the_requested_ones_under_umask_077) {
  umask_scope mask(077);
  raw_client l(srv.addr);
  l.handshake(dialect::v2000L);
  raw_client u(srv.addr);
  u.handshake(dialect::v2000u);
  fid_t fid = 10;
  for (std::uint32_t mode : {0777u, 0666u, 02775u, 06777u, 01777u}) {
    const std::string suffix = fmt::format("{:o}", mode);
    SCOPED_TRACE(suffix);
    as<Rwalk>(l.rpc(Twalk{0, fid, {}}));
    as<Rlcreate>(l.rpc(Tlcreate{fid++, "lcreate" + suffix, dotl::rdwr, mode, 0}));
    as<Rmkdir>(l.rpc(Tmkdir{0, "mkdir" + suffix, mode, 0}));
    as<Rmknod>(l.rpc(Tmknod{0, "fifo" + suffix, S_IFIFO | mode, 0, 0, 0}));
    // 9P2000.u carries setuid/setgid/sticky as DMSETUID/DMSETGID/DMSETVTX.
    const std::uint32_t perm = (mode & 0777) | ((mode & S_ISUID) ? dm::setuid : 0) |
                               ((mode & S_ISGID) ? dm::setgid : 0) |
                               ((mode & S_ISVTX) ? dm::setvtx : 0);
    as<Rwalk>(u.rpc(Twalk{0, fid, {}}));
    as<Rcreate>(u.rpc(Tcreate{fid++, "create" + suffix, perm, 2, ""}));
    as<Rwalk>(u.rpc(Twalk{0, fid, {}}));
    as<Rcreate>(u.rpc(Tcreate{fid++, "createdir" + suffix, dm::dir | perm, 0, ""}));
    for (const char* kind : {"lcreate", "mkdir", "fifo", "create", "createdir"}) {
      struct ::stat st {};
      ASSERT_EQ(::stat((dir.path / (kind + suffix)).c_str(), &st), 0) << kind;
      EXPECT_EQ(st.st_mode & 07777, mode) << kind << suffix;
    }
  }
  // Tlcreate of an existing file (no O_EXCL) opens it: its mode stays as it was.
  ASSERT_EQ(::chmod((dir.path / "lcreate666").c_str(), 0600), 0);
  as<Rwalk>(l.rpc(Twalk{0, fid, {}}));
  as<Rlcreate>(l.rpc(Tlcreate{fid++, "lcreate666", dotl::rdwr, 0777, 0}));
  struct ::stat st {};
  ASSERT_EQ(::stat((dir.path / "lcreate666").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST_F(server_test, posix_locks_conflict_across_fids) {
  put("f", "data");
  raw_client cl(srv.addr);
  cl.handshake(dialect::v2000L);
  for (fid_t f : {1u, 2u}) {
    as<Rwalk>(cl.rpc(Twalk{0, f, {"f"}}));
    as<Rlopen>(cl.rpc(Tlopen{f, dotl::rdwr}));
  }
  auto l1 = cl.rpc(Tlock{1, dotl::lock_type_wrlck, 0, 0, 2, 100, "host"});
  EXPECT_EQ(as<Rlock>(l1).status, dotl::lock_success);
  auto l2 = cl.rpc(Tlock{2, dotl::lock_type_wrlck, 0, 0, 2, 200, "host"});
  EXPECT_EQ(as<Rlock>(l2).status, dotl::lock_blocked) << "never 'always granted'";
  auto disjoint = cl.rpc(Tlock{2, dotl::lock_type_wrlck, 0, 2, 2, 200, "host"});
  EXPECT_EQ(as<Rlock>(disjoint).status, dotl::lock_success) << "byte ranges, not whole file";
  auto g = cl.rpc(Tgetlock{2, dotl::lock_type_wrlck, 0, 2, 200, "host"});
  EXPECT_EQ(as<Rgetlock>(g).locktype, dotl::lock_type_wrlck);
  as<Rlock>(cl.rpc(Tlock{1, dotl::lock_type_unlck, 0, 0, 2, 100, "host"}));
  auto l3 = cl.rpc(Tlock{2, dotl::lock_type_wrlck, 0, 0, 2, 200, "host"});
  EXPECT_EQ(as<Rlock>(l3).status, dotl::lock_success);
}

TEST_F(server_test, pipelined_reads_all_answered) {
  std::string content;
  for (int i = 0; i < 100; ++i) content += fmt::format("{:08}", i);
  put("f", content);
  raw_client cl(srv.addr);
  cl.handshake(dialect::v2000L);
  as<Rwalk>(cl.rpc(Twalk{0, 1, {"f"}}));
  as<Rlopen>(cl.rpc(Tlopen{1, dotl::rdonly}));
  for (tag_t t = 0; t < 100; ++t) cl.send(t, Tread{1, t * 8u, 8});
  std::set<tag_t> seen;
  for (int i = 0; i < 100; ++i) {
    auto r = cl.recv();
    EXPECT_EQ(text(as<Rread>(r).data.data), fmt::format("{:08}", r.tag));
    seen.insert(r.tag);
  }
  EXPECT_EQ(seen.size(), 100u);
}

// A backend whose reads wait until flushed, like an event file.
class stalling_fs : public server::filesystem {
 public:
  struct n : server::node {};
  result<server::walked> attach(const server::context&) override {
    return server::walked{std::make_shared<n>(), qid{qt::dir, 0, 1}};
  }
  result<server::walked> walk(const server::context&, server::node&, std::string_view) override {
    return server::walked{std::make_shared<n>(), qid{qt::file, 0, 2}};
  }
  result<server::opened> open(const server::context&, server::node&, int) override {
    return server::opened{qid{qt::file, 0, 2}, 0};
  }
  result<std::size_t> read(const server::context& cx, server::node&, std::uint64_t,
                           std::span<std::byte>) override {
    entered = true;
    while (!cx.stop.stop_requested()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    cancelled++;
    return fail(errno_code(EINTR));
  }
  std::atomic<int> cancelled{0};
  std::atomic<bool> entered{false};
};

TEST(server_flush, flush_cancels_blocked_read_and_rflush_comes_last) {
  auto fs = std::make_shared<stalling_fs>();
  running_server srv(fs);
  raw_client cl(srv.addr);
  cl.handshake(dialect::v2000L);
  as<Rwalk>(cl.rpc(Twalk{0, 1, {"event"}}));
  as<Rlopen>(cl.rpc(Tlopen{1, dotl::rdonly}));
  cl.send(7, Tread{1, 0, 100});
  // Flush only once the read waits in the backend, so this tests cancelling a running call.
  while (!fs->entered) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  cl.send(8, Tflush{7});
  // Either the read's reply then Rflush, or Rflush alone — never Rflush first, never Rerror
  // for the flush.
  auto first = cl.recv();
  if (first.tag == 7) {
    auto second = cl.recv();
    EXPECT_EQ(second.tag, 8);
    EXPECT_TRUE(std::holds_alternative<Rflush>(second.body));
  } else {
    EXPECT_EQ(first.tag, 8);
    EXPECT_TRUE(std::holds_alternative<Rflush>(first.body));
  }
  EXPECT_EQ(fs->cancelled.load(), 1);
  // Tag 7 is free again and the connection still works.
  EXPECT_TRUE(std::holds_alternative<Rflush>(cl.rpc(Tflush{123}, 7).body));
}

TEST(server_flush, flushed_queued_request_is_never_answered) {
  auto fs = std::make_shared<stalling_fs>();
  server::options o;
  o.workers = 1;  // the stalled read holds the only worker, so the next read queues
  running_server srv(fs, o);
  raw_client cl(srv.addr);
  cl.handshake(dialect::v2000L);
  as<Rwalk>(cl.rpc(Twalk{0, 1, {"event"}}));
  as<Rlopen>(cl.rpc(Tlopen{1, dotl::rdonly}));
  cl.send(7, Tread{1, 0, 100});
  while (!fs->entered) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  cl.send(9, Tread{1, 0, 100});
  cl.send(10, Tflush{9});
  cl.send(11, Tflush{7});
  std::vector<std::pair<tag_t, bool>> got;  // tag, is Rflush
  for (int i = 0; i < 3; ++i) {
    auto m = cl.recv();
    got.emplace_back(m.tag, std::holds_alternative<Rflush>(m.body));
  }
  // Read 9 waits for a worker: the flush takes it off the queue and is answered at once; read 7
  // is answered before its Rflush.
  const std::vector<std::pair<tag_t, bool>> want = {{10, true}, {7, false}, {11, true}};
  EXPECT_EQ(got, want) << "read 9 suppressed, never answered; read 7 answered before its Rflush";
  EXPECT_EQ(fs->cancelled.load(), 1) << "the queued read never reached the backend";
}

TEST(server_threads, connections_on_every_network_loop_are_served) {
  // Regression: a connection handed to a second network loop was destroyed before its
  // coroutine started there, resetting half of the clients.
  temp_dir d;
  server::options o;
  o.network_threads = 2;
  running_server srv(local(d.path), o);
  std::vector<std::unique_ptr<raw_client>> clients;
  for (int i = 0; i < 16; ++i) clients.push_back(std::make_unique<raw_client>(srv.addr));
  for (auto& c : clients) {
    as<Rattach>(c->handshake(dialect::v2000L));
    EXPECT_TRUE(std::holds_alternative<Rgetattr>(c->rpc(Tgetattr{0, dotl::getattr_basic}).body));
  }
}

// A frame that starts must complete within frame_timeout: small frames (read through the
// reader's buffer) and large ones (whose body is read straight into place) alike.
TEST(server_frames, stalled_frames_are_cut_off) {
  temp_dir d;
  server::options o;
  o.frame_timeout = std::chrono::milliseconds(200);
  running_server srv(local(d.path), o);
  raw_client good(srv.addr);
  good.handshake(dialect::v2000L);
  raw_client small(srv.addr);
  small.handshake(dialect::v2000L);
  const unsigned char part[] = {19, 0, 0, 0, 24, 1};  // 6 bytes of a 19-byte Tgetattr
  small.send_bytes(std::as_bytes(std::span(part)));
  raw_client large(srv.addr);
  large.handshake(dialect::v2000L);
  std::vector<std::byte> head(200);
  const std::uint32_t size = 60000;
  for (int i = 0; i < 4; ++i) head[i] = std::byte(size >> (8 * i));
  head[4] = std::byte(118);  // Twrite; its body never completes
  large.send_bytes(head);
  EXPECT_TRUE(small.closed_by_peer());
  EXPECT_TRUE(large.closed_by_peer());
  EXPECT_TRUE(std::holds_alternative<Rgetattr>(good.rpc(Tgetattr{0, dotl::getattr_basic}).body));
}

// A large frame whose body arrives in pieces, with pauses: the server takes what is there,
// then waits for the rest. With and without busy-polling.
TEST(server_frames, large_write_in_pieces) {
  for (auto poll : {std::chrono::microseconds(0), std::chrono::microseconds(50)}) {
    temp_dir d;
    std::ofstream(d.path / "f") << "";
    server::options o;
    o.poll_window = poll;
    running_server srv(local(d.path), o);
    raw_client cl(srv.addr);
    cl.handshake(dialect::v2000L);
    as<Rwalk>(cl.rpc(Twalk{0, 1, {"f"}}));
    as<Rlopen>(cl.rpc(Tlopen{1, dotl::rdwr}));
    std::string data(60000, 'x');
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + i % 26);
    wire::message m{5, Twrite{1, 0, payload{bytes(data)}}};
    std::vector<std::byte> out(wire::encoded_size(m, dialect::v2000L));
    ASSERT_TRUE(wire::encode(m, dialect::v2000L, out));
    for (std::size_t off = 0; off < out.size(); off += 7000) {
      cl.send_bytes(std::span(out).subspan(off, std::min<std::size_t>(7000, out.size() - off)));
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    auto r = cl.recv();
    EXPECT_EQ(r.tag, 5);
    EXPECT_EQ(as<Rwrite>(r).count, data.size());
    EXPECT_EQ(text(as<Rread>(cl.rpc(Tread{1, 0, 60000})).data.data), data);
    // Small requests one after another (the busy-polled case), then idle, then again.
    for (int i = 0; i < 50; ++i) as<Rgetattr>(cl.rpc(Tgetattr{1, dotl::getattr_basic}));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    for (int i = 0; i < 5; ++i) as<Rgetattr>(cl.rpc(Tgetattr{1, dotl::getattr_basic}));
  }
}

TEST(server_limits, fid_limit) {
  temp_dir d;
  server::options o;
  o.max_fids = 3;
  running_server srv(local(d.path), o);
  raw_client cl(srv.addr);
  cl.handshake(dialect::v2000L);
  as<Rwalk>(cl.rpc(Twalk{0, 1, {}}));
  as<Rwalk>(cl.rpc(Twalk{0, 2, {}}));
  EXPECT_EQ(raw_client::error_of(cl.rpc(Twalk{0, 3, {}})), EMFILE);
}

}  // namespace
}  // namespace ninep
