// SPDX-License-Identifier: MIT
// local_fs operations and their error paths (confinement has its own file).

#include <dirent.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <set>
#include <thread>

#include "local_test_util.hpp"

namespace ninep::fs::testing {
namespace {

namespace dotl = wire::dotl;

using local_fs_test = fs_fixture;

// ---- make / attach ----

TEST(local_fs_make, errors_name_the_directory) {
  temp_tree t;
  local_config c;
  c.default_dir = (t.base() / "missing").string();
  auto r = local_fs::make(c);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errno_code(ENOENT));
  EXPECT_NE(r.error().message().find("missing"), std::string::npos);

  write_file(t.base() / "plain", "x");
  c.default_dir = (t.base() / "plain").string();
  r = local_fs::make(c);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errno_code(ENOTDIR));
  EXPECT_NE(r.error().message().find("plain: not a directory"), std::string::npos);

  c.default_dir.clear();
  r = local_fs::make(c);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errno_code(EINVAL));

  c.exports = {{"a", t.exported().string()}, {"a", t.outside().string()}};
  r = local_fs::make(c);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("used twice"), std::string::npos);

  c.exports = {{"", t.exported().string()}};
  EXPECT_FALSE(local_fs::make(c));
}

TEST_F(local_fs_test, attach_selects_exports) {
  stdfs::create_directory(tree_.outside() / "other");
  write_file(tree_.outside() / "other" / "marker", "m");
  local_config c;
  c.exports = {{"main", tree_.exported().string()},
               {"other", (tree_.outside() / "other").string()}};
  auto fs = make(c);
  ASSERT_TRUE(fs);
  auto with = [&](const std::string& aname) {
    server::user u{"root", 0, aname};
    return fs->attach(server::context{u, {}});
  };
  EXPECT_EQ(ec(with("")), errc::unknown_aname);  // no default export configured
  EXPECT_EQ(ec(with("nope")), errc::unknown_aname);
  EXPECT_EQ(ec(with("/")), errc::unknown_aname);
  auto other = with("other");
  ASSERT_TRUE(other);
  auto by_path = with((tree_.outside() / "other").string());
  ASSERT_TRUE(by_path);
  EXPECT_EQ(by_path->qid, other->qid);
  auto by_slash = with((tree_.outside() / "other").string() + "/");
  ASSERT_TRUE(by_slash);
  EXPECT_EQ(by_slash->qid, other->qid);
  // diod's convention: the realpath of the directory.
  stdfs::create_symlink(tree_.outside() / "other", tree_.base() / "alias");
  local_config c2;
  c2.exports = {{"x", (tree_.base() / "alias").string()}};
  auto fs2 = make(c2);
  server::user u{"root", 0, stdfs::canonical(tree_.outside() / "other").string()};
  EXPECT_TRUE(fs2->attach(server::context{u, {}}));
  EXPECT_TRUE(fs->walk(cx(), *other->node, "marker"));
  EXPECT_EQ(other->qid.type, wire::qt::dir);
}

// ---- walk / clone / getattr ----

TEST_F(local_fs_test, walk_and_getattr) {
  stdfs::create_directory(host("dir"));
  write_file(host("dir/f"), "hello");
  auto d = at("dir");
  EXPECT_EQ(d.qid.type, wire::qt::dir);
  auto f = at("dir/f");
  EXPECT_EQ(f.qid.type, wire::qt::file);
  struct stat st {};
  ASSERT_EQ(stat(host("dir/f").c_str(), &st), 0);
  EXPECT_EQ(f.qid.path & ((std::uint64_t{1} << 48) - 1), st.st_ino);

  auto a = fs_->getattr(cx(), *f.node, dotl::getattr_all);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->valid & dotl::getattr_basic, dotl::getattr_basic);
  EXPECT_EQ(a->qid, f.qid);
  EXPECT_EQ(a->mode, st.st_mode);
  EXPECT_EQ(a->size, 5u);
  EXPECT_EQ(a->nlink, 1u);
  EXPECT_EQ(a->uid, st.st_uid);
  EXPECT_EQ(a->blksize, static_cast<std::uint64_t>(st.st_blksize));
  EXPECT_EQ(a->mtime_sec, static_cast<std::uint64_t>(st.st_mtim.tv_sec));
  EXPECT_EQ(a->mtime_nsec, static_cast<std::uint64_t>(st.st_mtim.tv_nsec));

  EXPECT_EQ(ec(fs_->walk(cx(), *d.node, "missing")), err(ENOENT));
  EXPECT_EQ(ec(fs_->walk(cx(), *f.node, "x")), err(ENOTDIR));
  auto dot = fs_->walk(cx(), *d.node, ".");
  ASSERT_TRUE(dot);
  EXPECT_EQ(dot->qid, d.qid);
}

TEST_F(local_fs_test, qid_version_changes_with_content) {
  write_file(host("f"), "one");
  auto f = at("f");
  ASSERT_TRUE(fs_->open(cx(), *f.node, O_RDWR));
  const auto v1 = fs_->getattr(cx(), *f.node, dotl::getattr_basic)->qid.version;
  ASSERT_TRUE(fs_->write(cx(), *f.node, 3, bytes("more")));
  const auto v2 = fs_->getattr(cx(), *f.node, dotl::getattr_basic)->qid.version;
  EXPECT_NE(v1, v2);
}

TEST_F(local_fs_test, clone_is_independent) {
  write_file(host("f"), "data");
  auto f = at("f");
  auto c = fs_->clone(cx(), f.node);
  ASSERT_TRUE(c);
  EXPECT_NE(c->get(), f.node.get());
  ASSERT_TRUE(fs_->open(cx(), *f.node, O_RDONLY));
  // The clone is not open: it can be opened on its own (a second open of f fails).
  std::vector<std::byte> buf(4);
  EXPECT_EQ(ec(fs_->read(cx(), **c, 0, buf)), err(EBADF));
  ASSERT_TRUE(fs_->open(cx(), **c, O_RDWR));
  EXPECT_EQ(ec(fs_->open(cx(), *f.node, O_RDONLY)), err(EBADF));
}

// ---- open / read / write / create ----

TEST_F(local_fs_test, open_read_write) {
  write_file(host("f"), "hello world");
  auto f = at("f");
  // O_CREAT, O_NOFOLLOW etc. are stripped; O_TRUNC is honoured.
  ASSERT_TRUE(fs_->open(cx(), *f.node, O_RDWR | O_CREAT | O_NOFOLLOW | O_NOCTTY | O_EXCL));
  EXPECT_EQ(read_all(*f.node), "hello world");
  auto w = fs_->write(cx(), *f.node, 6, bytes("there"));
  ASSERT_TRUE(w);
  EXPECT_EQ(*w, 5u);
  EXPECT_EQ(read_host(host("f")), "hello there");
  std::vector<std::byte> buf(4);
  auto r = fs_->read(cx(), *f.node, 100, buf);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 0u);
  EXPECT_EQ(ec(fs_->read(cx(), *f.node, ~0ull, buf)), err(EINVAL));
  ASSERT_TRUE(fs_->fsync(cx(), *f.node, true));
  ASSERT_TRUE(fs_->fsync(cx(), *f.node, false));

  auto g = at("f");
  ASSERT_TRUE(fs_->open(cx(), *g.node, O_WRONLY | O_TRUNC));
  EXPECT_EQ(read_host(host("f")), "");
  EXPECT_EQ(ec(fs_->read(cx(), *g.node, 0, buf)), err(EBADF));  // write-only

  auto h = at("f");
  EXPECT_EQ(ec(fs_->open(cx(), *h.node, O_RDONLY | O_DIRECTORY)), err(ENOTDIR));
  EXPECT_EQ(ec(fs_->fsync(cx(), *h.node, false)), err(EBADF));  // not open
  EXPECT_EQ(ec(fs_->write(cx(), *h.node, 0, bytes("x"))), err(EBADF));

  auto r0 = root();
  EXPECT_EQ(ec(fs_->open(cx(), *r0.node, O_RDWR)), err(EISDIR));
}

TEST_F(local_fs_test, append_mode_appends) {
  write_file(host("log"), "a");
  auto f = at("log");
  ASSERT_TRUE(fs_->open(cx(), *f.node, O_WRONLY | O_APPEND));
  ASSERT_TRUE(fs_->write(cx(), *f.node, 0, bytes("b")));
  EXPECT_EQ(read_host(host("log")), "ab");
}

TEST_F(local_fs_test, create_new_files) {
  auto r = root();
  auto c = fs_->create(cx(), *r.node, "new", O_RDWR, 0640, ~0u);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->qid.type, wire::qt::file);
  ASSERT_TRUE(fs_->write(cx(), *c->node, 0, bytes("abc")));
  EXPECT_EQ(read_host(host("new")), "abc");
  struct stat st {};
  ASSERT_EQ(stat(host("new").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u & ~0u & 0777);
  // The created node is a full node: getattr, remove (it knows its parent and name).
  auto a = fs_->getattr(cx(), *c->node, dotl::getattr_basic);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->qid.path, c->qid.path);

  EXPECT_EQ(ec(fs_->create(cx(), *r.node, "new", O_RDWR | O_EXCL, 0644, ~0u)), err(EEXIST));
  auto again = fs_->create(cx(), *r.node, "new", O_RDWR | O_TRUNC, 0644, ~0u);
  ASSERT_TRUE(again);
  EXPECT_EQ(read_host(host("new")), "");
  EXPECT_EQ(ec(fs_->create(cx(), *c->node, "x", O_RDWR, 0644, ~0u)), err(ENOTDIR));

  // gid: the server may give it the requested group (we are root here).
  auto g = fs_->create(cx(), *r.node, "grouped", O_RDWR, 0644, 4242);
  ASSERT_TRUE(g);
  ASSERT_EQ(stat(host("grouped").c_str(), &st), 0);
  if (geteuid() == 0) {
    EXPECT_EQ(st.st_gid, 4242u);
  }
  ASSERT_TRUE(fs_->remove(cx(), *g->node));
  EXPECT_FALSE(stdfs::exists(host("grouped")));
}

// ---- unlinked but open ----

TEST_F(local_fs_test, unlinked_open_file_keeps_working) {
  auto r = root();
  auto c = fs_->create(cx(), *r.node, "tmp", O_RDWR, 0600, ~0u);
  ASSERT_TRUE(c);
  ASSERT_TRUE(fs_->write(cx(), *c->node, 0, bytes("0123456789")));
  ASSERT_TRUE(fs_->unlinkat(cx(), *r.node, "tmp", 0));
  EXPECT_FALSE(stdfs::exists(host("tmp")));

  EXPECT_EQ(read_all(*c->node), "0123456789");
  ASSERT_TRUE(fs_->write(cx(), *c->node, 10, bytes("ab")));
  auto a = fs_->getattr(cx(), *c->node, dotl::getattr_basic);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->nlink, 0u);
  EXPECT_EQ(a->size, 12u);

  server::set_attr s;
  s.valid = dotl::setattr_size;
  s.size = 4;
  ASSERT_TRUE(fs_->setattr(cx(), *c->node, s));
  EXPECT_EQ(read_all(*c->node), "0123");
  ASSERT_TRUE(fs_->fsync(cx(), *c->node, false));

  // A second fid walked before the unlink, not open: getattr and truncate still work.
  write_file(host("tmp2"), "abcdef");
  auto w = at("tmp2");
  ASSERT_TRUE(fs_->unlinkat(cx(), *r.node, "tmp2", 0));
  s.size = 2;
  ASSERT_TRUE(fs_->setattr(cx(), *w.node, s));
  auto a2 = fs_->getattr(cx(), *w.node, dotl::getattr_basic);
  ASSERT_TRUE(a2);
  EXPECT_EQ(a2->size, 2u);
  ASSERT_TRUE(fs_->open(cx(), *w.node, O_RDONLY));
  EXPECT_EQ(read_all(*w.node), "ab");
  server::set_attr m;
  m.valid = dotl::setattr_mode | dotl::setattr_mtime | dotl::setattr_mtime_set;
  m.mode = 0604;
  m.mtime_sec = 1000;
  ASSERT_TRUE(fs_->setattr(cx(), *w.node, m));
  auto a3 = fs_->getattr(cx(), *w.node, dotl::getattr_basic);
  EXPECT_EQ(a3->mode & 07777, 0604u);
  EXPECT_EQ(a3->mtime_sec, 1000u);
}

// ---- setattr ----

TEST_F(local_fs_test, setattr_mode_owner_size) {
  write_file(host("f"), "123456");
  auto f = at("f");
  server::set_attr s;
  s.valid = dotl::setattr_mode;
  s.mode = S_IFREG | 0612;
  ASSERT_TRUE(fs_->setattr(cx(), *f.node, s));
  struct stat st {};
  ASSERT_EQ(stat(host("f").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0612u);

  s.valid = dotl::setattr_size;
  s.size = 3;
  ASSERT_TRUE(fs_->setattr(cx(), *f.node, s));
  EXPECT_EQ(read_host(host("f")), "123");
  s.size = ~0ull;
  EXPECT_EQ(ec(fs_->setattr(cx(), *f.node, s)), err(EFBIG));
  EXPECT_EQ(ec(fs_->setattr(cx(), *root().node, server::set_attr{dotl::setattr_size})),
            err(EISDIR));

  if (geteuid() == 0) {
    s.valid = dotl::setattr_uid | dotl::setattr_gid;
    s.uid = 1234;
    s.gid = 5678;
    ASSERT_TRUE(fs_->setattr(cx(), *f.node, s));
    ASSERT_EQ(stat(host("f").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 1234u);
    EXPECT_EQ(st.st_gid, 5678u);
    s.valid = dotl::setattr_gid;
    s.gid = 42;
    ASSERT_TRUE(fs_->setattr(cx(), *f.node, s));
    ASSERT_EQ(stat(host("f").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 1234u);
    EXPECT_EQ(st.st_gid, 42u);
  }

  // Symlinks: no modes on Linux; ownership changes the link itself.
  stdfs::create_symlink("f", host("l"));
  auto l = at("l");
  s.valid = dotl::setattr_mode;
  EXPECT_EQ(ec(fs_->setattr(cx(), *l.node, s)), err(EOPNOTSUPP));
  if (geteuid() == 0) {
    s.valid = dotl::setattr_uid;
    s.uid = 777;
    ASSERT_TRUE(fs_->setattr(cx(), *l.node, s));
    ASSERT_EQ(lstat(host("l").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 777u);
    ASSERT_EQ(stat(host("f").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 1234u);
  }
}

TEST_F(local_fs_test, setattr_time_semantics) {
  write_file(host("f"), "x");
  auto f = at("f");
  server::set_attr s;
  // *_SET: the given times.
  s.valid =
      dotl::setattr_atime | dotl::setattr_atime_set | dotl::setattr_mtime | dotl::setattr_mtime_set;
  s.atime_sec = 1000000;
  s.atime_nsec = 123;
  s.mtime_sec = 2000000;
  s.mtime_nsec = 456;
  ASSERT_TRUE(fs_->setattr(cx(), *f.node, s));
  struct stat st {};
  ASSERT_EQ(stat(host("f").c_str(), &st), 0);
  EXPECT_EQ(st.st_atim.tv_sec, 1000000);
  EXPECT_EQ(st.st_atim.tv_nsec, 123);
  EXPECT_EQ(st.st_mtim.tv_sec, 2000000);
  EXPECT_EQ(st.st_mtim.tv_nsec, 456);

  // ATIME without ATIME_SET: now; MTIME untouched (omitted), even though a value is given.
  s.valid = dotl::setattr_atime;
  s.atime_sec = 5;
  s.mtime_sec = 7;
  const auto before = time(nullptr);
  ASSERT_TRUE(fs_->setattr(cx(), *f.node, s));
  ASSERT_EQ(stat(host("f").c_str(), &st), 0);
  EXPECT_GE(st.st_atim.tv_sec, before - 1);
  EXPECT_EQ(st.st_mtim.tv_sec, 2000000);
  EXPECT_EQ(st.st_mtim.tv_nsec, 456);

  // MTIME without SET: now; atime kept.
  s.valid = dotl::setattr_mtime;
  ASSERT_TRUE(fs_->setattr(cx(), *f.node, s));
  struct stat st2 {};
  ASSERT_EQ(stat(host("f").c_str(), &st2), 0);
  EXPECT_GE(st2.st_mtim.tv_sec, before - 1);
  EXPECT_EQ(st2.st_atim.tv_sec, st.st_atim.tv_sec);
  EXPECT_EQ(st2.st_atim.tv_nsec, st.st_atim.tv_nsec);

  s.valid = dotl::setattr_mtime | dotl::setattr_mtime_set;
  s.mtime_nsec = 2000000000;
  EXPECT_EQ(ec(fs_->setattr(cx(), *f.node, s)), err(EINVAL));

  // Times on a symlink change the link, not its target.
  stdfs::create_symlink("f", host("l"));
  auto l = at("l");
  s.valid = dotl::setattr_mtime | dotl::setattr_mtime_set;
  s.mtime_sec = 3000000;
  s.mtime_nsec = 0;
  ASSERT_TRUE(fs_->setattr(cx(), *l.node, s));
  ASSERT_EQ(lstat(host("l").c_str(), &st), 0);
  EXPECT_EQ(st.st_mtim.tv_sec, 3000000);
  ASSERT_EQ(stat(host("f").c_str(), &st), 0);
  EXPECT_NE(st.st_mtim.tv_sec, 3000000);
}

// ---- directories ----

TEST_F(local_fs_test, mkdir_symlink_mknod_link) {
  auto r = root();
  auto d = fs_->mkdir(cx(), *r.node, "sub", 0750, ~0u);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->type, wire::qt::dir);
  EXPECT_TRUE(stdfs::is_directory(host("sub")));
  EXPECT_EQ(ec(fs_->mkdir(cx(), *r.node, "sub", 0750, ~0u)), err(EEXIST));

  auto s = fs_->symlink(cx(), *r.node, "ln", "sub/target", ~0u);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->type, wire::qt::symlink);
  EXPECT_EQ(stdfs::read_symlink(host("ln")), "sub/target");
  auto ln = at("ln");
  EXPECT_EQ(*fs_->readlink(cx(), *ln.node), "sub/target");
  EXPECT_EQ(ec(fs_->readlink(cx(), *r.node)), err(EINVAL));
  EXPECT_EQ(ec(fs_->symlink(cx(), *r.node, "bad", std::string_view("a\0b", 3), ~0u)), err(EINVAL));
  const std::string long_target(3000, 'x');
  ASSERT_TRUE(fs_->symlink(cx(), *r.node, "long", long_target, ~0u));
  EXPECT_EQ(*fs_->readlink(cx(), *at("long").node), long_target);

  auto fifo = fs_->mknod(cx(), *r.node, "fifo", S_IFIFO | 0600, 0, 0, ~0u);
  ASSERT_TRUE(fifo);
  EXPECT_TRUE(stdfs::is_fifo(host("fifo")));
  EXPECT_EQ(ec(fs_->mknod(cx(), *r.node, "bad", S_IFDIR | 0600, 0, 0, ~0u)), err(EINVAL));

  write_file(host("orig"), "same");
  auto orig = at("orig");
  auto sub = at("sub");
  ASSERT_TRUE(fs_->link(cx(), *sub.node, *orig.node, "hard"));
  EXPECT_EQ(read_host(host("sub/hard")), "same");
  EXPECT_EQ(stdfs::hard_link_count(host("orig")), 2u);
  EXPECT_EQ(ec(fs_->link(cx(), *r.node, *sub.node, "dirlink")), err(EPERM));
  EXPECT_EQ(ec(fs_->link(cx(), *orig.node, *orig.node, "x")), err(ENOTDIR));
}

// ---- special files ----

TEST_F(local_fs_test, device_nodes_only_with_allow_devices) {
  auto r = root();
  // Refused before any host call, whoever asks: no node appears.
  EXPECT_EQ(ec(fs_->mknod(cx(), *r.node, "null", S_IFCHR | 0666, 1, 3, ~0u)), err(EPERM));
  EXPECT_EQ(ec(fs_->mknod(cx(), *r.node, "disk", S_IFBLK | 0600, 8, 0, ~0u)), err(EPERM));
  EXPECT_FALSE(stdfs::exists(stdfs::symlink_status(host("null"))));
  EXPECT_FALSE(stdfs::exists(stdfs::symlink_status(host("disk"))));
  // FIFOs, sockets and regular files stay allowed.
  ASSERT_TRUE(fs_->mknod(cx(), *r.node, "fifo", S_IFIFO | 0600, 0, 0, ~0u));
  ASSERT_TRUE(fs_->mknod(cx(), *r.node, "sock", S_IFSOCK | 0600, 0, 0, ~0u));
  ASSERT_TRUE(fs_->mknod(cx(), *r.node, "reg", S_IFREG | 0600, 0, 0, ~0u));
  EXPECT_TRUE(stdfs::is_socket(host("sock")));

  if (geteuid() != 0) GTEST_SKIP() << "making device nodes needs root (CAP_MKNOD)";
  local_config c;
  c.allow_devices = true;
  fs_ = make(c);
  r = root();
  ASSERT_TRUE(fs_->mknod(cx(), *r.node, "null", S_IFCHR | 0600, 1, 3, ~0u));
  struct stat st {};
  ASSERT_EQ(lstat(host("null").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(1, 3));
  // Allowed to exist, still never opened by the server.
  EXPECT_EQ(ec(fs_->open(cx(), *at("null").node, O_RDONLY)), err(ENXIO));
}

namespace {

/// Runs `f` on a thread and waits at most 5 s for it: a call that blocks fails the test
/// instead of hanging it (`unblock` then releases it so the thread can be joined).
template <class F, class U>
auto bounded(F f, U unblock) {
  std::atomic<bool> done{false};
  decltype(f()) out{};
  std::thread t([&] {
    out = f();
    done = true;
  });
  for (int i = 0; i < 500 && !done; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(done) << "the call blocked";
  if (!done) unblock();
  t.join();
  return out;
}

}  // namespace

TEST_F(local_fs_test, special_files_a_host_user_made_are_never_opened) {
  ASSERT_EQ(mkfifo(host("fifo").c_str(), 0666), 0);
  // A unix socket bound in the export, as a host service would.
  const int ls = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(ls, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", host("sock").c_str());
  ASSERT_EQ(::bind(ls, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  const bool root_user = geteuid() == 0;
  if (root_user) {
    ASSERT_EQ(::mknod(host("zero").c_str(), S_IFCHR | 0666, makedev(1, 5)), 0);
  }
  // A blocked FIFO open (reader or writer) is released by a peer: O_RDWR is both.
  auto unblock = [&] { ::close(::open(host("fifo").c_str(), O_RDWR | O_NONBLOCK)); };

  for (const char* name : {"fifo", "sock", "zero"}) {
    if (std::string(name) == "zero" && !root_user) continue;
    SCOPED_TRACE(name);
    for (int flags : {O_RDONLY, O_WRONLY, O_RDWR}) {
      auto w = at(name);
      auto o = bounded([&] { return ec(fs_->open(cx(), *w.node, flags)); }, unblock);
      EXPECT_EQ(o, err(ENXIO));
      // Tlcreate/Tcreate without O_EXCL of an existing name opens it: refused the same way.
      auto c = bounded([&] { return ec(fs_->create(cx(), *root().node, name, flags, 0666, ~0u)); },
                       unblock);
      EXPECT_EQ(c, err(ENXIO));
      EXPECT_EQ(ec(fs_->create(cx(), *root().node, name, flags | O_EXCL, 0666, ~0u)), err(EEXIST));
    }
  }
  ::close(ls);
  // Opening a directory by create, as open(2) with O_CREAT does.
  stdfs::create_directory(host("dir"));
  EXPECT_EQ(ec(fs_->create(cx(), *root().node, "dir", O_RDONLY, 0666, ~0u)), err(EISDIR));
  // Regular files and directories still open.
  write_file(host("plain"), "p");
  EXPECT_TRUE(fs_->open(cx(), *at("plain").node, O_RDWR));
  EXPECT_TRUE(fs_->open(cx(), *at("dir").node, O_RDONLY | O_DIRECTORY));
}

TEST_F(local_fs_test, rename_and_remove_through_nodes) {
  stdfs::create_directories(host("a/b"));
  write_file(host("a/f"), "f");
  auto f = at("a/f");
  auto b = at("a/b");
  ASSERT_TRUE(fs_->rename(cx(), *f.node, *b.node, "g"));
  EXPECT_TRUE(stdfs::exists(host("a/b/g")));
  // The node follows its own rename: a second rename and a remove still work.
  auto r = root();
  ASSERT_TRUE(fs_->rename(cx(), *f.node, *r.node, "top"));
  EXPECT_TRUE(stdfs::exists(host("top")));
  ASSERT_TRUE(fs_->remove(cx(), *f.node));
  EXPECT_FALSE(stdfs::exists(host("top")));

  // Renamed behind the node's back: ESTALE rather than removing another file.
  write_file(host("a/x"), "x");
  auto x = at("a/x");
  stdfs::rename(host("a/x"), host("a/y"));
  write_file(host("a/x"), "another");
  EXPECT_EQ(ec(fs_->remove(cx(), *x.node)), err(ESTALE));
  EXPECT_EQ(ec(fs_->rename(cx(), *x.node, *r.node, "z")), err(ESTALE));
  EXPECT_EQ(read_host(host("a/x")), "another");

  // Directories.
  write_file(host("a/b/keep"), "k");
  EXPECT_EQ(ec(fs_->remove(cx(), *b.node)), err(ENOTEMPTY));
  stdfs::remove(host("a/b/keep"));
  ASSERT_TRUE(fs_->remove(cx(), *b.node));
  EXPECT_FALSE(stdfs::exists(host("a/b")));
  EXPECT_EQ(ec(fs_->remove(cx(), *r.node)), err(EBUSY));
  EXPECT_EQ(ec(fs_->rename(cx(), *r.node, *r.node, "x")), err(EBUSY));
}

TEST_F(local_fs_test, renameat_and_unlinkat) {
  stdfs::create_directories(host("a"));
  stdfs::create_directories(host("b"));
  write_file(host("a/f"), "f");
  auto a = at("a");
  auto b = at("b");
  ASSERT_TRUE(fs_->renameat(cx(), *a.node, "f", *b.node, "g"));
  EXPECT_TRUE(stdfs::exists(host("b/g")));
  EXPECT_EQ(ec(fs_->renameat(cx(), *a.node, "f", *b.node, "g")), err(ENOENT));
  auto r = root();
  EXPECT_EQ(ec(fs_->unlinkat(cx(), *r.node, "a", 0)), err(EISDIR));
  EXPECT_EQ(ec(fs_->unlinkat(cx(), *r.node, "b", dotl::at_removedir)), err(ENOTEMPTY));
  ASSERT_TRUE(fs_->unlinkat(cx(), *b.node, "g", 0));
  ASSERT_TRUE(fs_->unlinkat(cx(), *r.node, "b", dotl::at_removedir));
  EXPECT_FALSE(stdfs::exists(host("b")));
  // Tunlinkat through an *open* directory fid (interop note 9).
  ASSERT_TRUE(fs_->open(cx(), *a.node, O_RDONLY | O_DIRECTORY));
  write_file(host("a/z"), "z");
  ASSERT_TRUE(fs_->unlinkat(cx(), *a.node, "z", 0));
}

TEST_F(local_fs_test, readdir_lists_with_qids_and_types) {
  stdfs::create_directory(host("dir"));
  write_file(host("file"), "x");
  stdfs::create_symlink("file", host("link"));
  auto r = root();
  ASSERT_TRUE(fs_->open(cx(), *r.node, O_RDONLY | O_DIRECTORY));
  collect_sink sink;
  ASSERT_TRUE(fs_->readdir(cx(), *r.node, 0, sink));
  std::map<std::string, collect_sink::item> by_name;
  for (auto& it : sink.items) by_name[it.name] = it;
  ASSERT_EQ(by_name.size(), 5u);
  EXPECT_EQ(by_name["dir"].type, DT_DIR);
  EXPECT_EQ(by_name["dir"].qid.type, wire::qt::dir);
  EXPECT_EQ(by_name["link"].qid.type, wire::qt::symlink);
  EXPECT_EQ(by_name["file"].qid.type, wire::qt::file);
  EXPECT_EQ(by_name["file"].qid.path, at("file").qid.path);
  EXPECT_EQ(by_name["."].qid.path, r.qid.path);

  // Not open, not a directory.
  auto d = at("dir");
  EXPECT_EQ(ec(fs_->readdir(cx(), *d.node, 0, sink)), err(EBADF));
  auto f = at("file");
  ASSERT_TRUE(fs_->open(cx(), *f.node, O_RDONLY));
  EXPECT_EQ(ec(fs_->readdir(cx(), *f.node, 0, sink)), err(ENOTDIR));
  // Resuming from the last cookie of a complete listing gives nothing.
  collect_sink tail;
  ASSERT_TRUE(fs_->readdir(cx(), *r.node, sink.items.back().next, tail));
  EXPECT_TRUE(tail.items.empty());
  EXPECT_EQ(ec(fs_->readdir(cx(), *r.node, ~0ull, tail)), err(EINVAL));
}

TEST_F(local_fs_test, readdir_resumes_over_many_entries_with_deletions) {
  constexpr int count = 10000;
  stdfs::create_directory(host("big"));
  for (int i = 0; i < count; ++i) write_file(host("big/e" + std::to_string(i)), "");
  auto d = at("big");
  ASSERT_TRUE(fs_->open(cx(), *d.node, O_RDONLY | O_DIRECTORY));
  std::set<std::string> seen;
  std::set<std::string> deleted;
  std::uint64_t cookie = 0;
  int batches = 0;
  for (;;) {
    collect_sink batch(37);
    ASSERT_TRUE(fs_->readdir(cx(), *d.node, cookie, batch));
    if (batch.items.empty()) break;
    for (const auto& it : batch.items) {
      EXPECT_TRUE(seen.insert(it.name).second) << "duplicate " << it.name;
    }
    cookie = batch.items.back().next;
    if (++batches % 10 == 0) {
      // Delete some entries, seen and unseen, between batches.
      for (int k = 0; k < 20; ++k) {
        const std::string name = "e" + std::to_string((batches * 131 + k * 977) % count);
        if (deleted.insert(name).second) {
          ASSERT_TRUE(fs_->unlinkat(cx(), *d.node, name, 0));
        }
      }
    }
  }
  EXPECT_GT(batches, 200);
  for (int i = 0; i < count; ++i) {
    const std::string name = "e" + std::to_string(i);
    if (!deleted.count(name)) {
      EXPECT_TRUE(seen.count(name)) << "lost " << name;
    }
  }
  EXPECT_TRUE(seen.count("."));
  EXPECT_TRUE(seen.count(".."));
}

TEST_F(local_fs_test, concurrent_readdir_on_one_node) {
  stdfs::create_directory(host("d"));
  for (int i = 0; i < 300; ++i) write_file(host("d/n" + std::to_string(i)), "");
  auto d = at("d");
  ASSERT_TRUE(fs_->open(cx(), *d.node, O_RDONLY | O_DIRECTORY));
  auto list = [&] {
    std::set<std::string> names;
    std::uint64_t cookie = 0;
    for (;;) {
      collect_sink b(7);
      if (!fs_->readdir(cx(), *d.node, cookie, b)) return std::set<std::string>{};
      if (b.items.empty()) return names;
      for (auto& it : b.items) names.insert(it.name);
      cookie = b.items.back().next;
    }
  };
  std::set<std::string> r1, r2;
  std::thread t([&] { r1 = list(); });
  r2 = list();
  t.join();
  EXPECT_EQ(r1.size(), 302u);
  EXPECT_EQ(r1, r2);
}

// ---- statfs ----

TEST_F(local_fs_test, statfs_reports_host_values) {
  auto s = fs_->statfs(cx(), *root().node);
  ASSERT_TRUE(s);
  struct statfs sf {};
  ASSERT_EQ(::statfs(tree_.exported().c_str(), &sf), 0);
  EXPECT_EQ(s->type, dotl::v9fs_magic);
  EXPECT_EQ(s->bsize, static_cast<std::uint32_t>(sf.f_bsize));
  EXPECT_EQ(s->blocks, sf.f_blocks);
  EXPECT_EQ(s->namelen, static_cast<std::uint32_t>(sf.f_namelen));
  const std::uint64_t fsid = static_cast<std::uint32_t>(sf.f_fsid.__val[0]) |
                             std::uint64_t{static_cast<std::uint32_t>(sf.f_fsid.__val[1])} << 32;
  EXPECT_EQ(s->fsid, fsid);
}

// ---- locks ----

TEST_F(local_fs_test, ofd_locks_conflict_between_fids) {
  write_file(host("f"), "0123456789");
  auto a = at("f");
  auto b = at("f");
  ASSERT_TRUE(fs_->open(cx(), *a.node, O_RDWR));
  ASSERT_TRUE(fs_->open(cx(), *b.node, O_RDWR));
  server::lock_request wr{dotl::lock_type_wrlck, 0, 0, 5, 100, "host-a"};
  EXPECT_EQ(*fs_->lock(cx(), *a.node, wr), dotl::lock_success);
  // b conflicts on an overlapping range; a non-overlapping range is fine.
  server::lock_request wr_b{dotl::lock_type_wrlck, dotl::lock_flags_block, 3, 4, 200, "host-b"};
  EXPECT_EQ(*fs_->lock(cx(), *b.node, wr_b), dotl::lock_blocked);
  server::lock_request rd_b{dotl::lock_type_rdlck, 0, 5, 5, 200, "host-b"};
  EXPECT_EQ(*fs_->lock(cx(), *b.node, rd_b), dotl::lock_success);

  auto g = fs_->getlock(cx(), *b.node, wr_b);
  ASSERT_TRUE(g);
  EXPECT_EQ(g->type, dotl::lock_type_wrlck);
  EXPECT_EQ(g->start, 0u);
  EXPECT_EQ(g->length, 5u);
  // No conflict with itself: type unlck, the request echoed.
  auto self = fs_->getlock(cx(), *a.node, wr);
  ASSERT_TRUE(self);
  EXPECT_EQ(self->type, dotl::lock_type_unlck);
  EXPECT_EQ(self->start, 0u);

  server::lock_request un{dotl::lock_type_unlck, 0, 0, 0, 100, "host-a"};
  EXPECT_EQ(*fs_->lock(cx(), *a.node, un), dotl::lock_success);
  EXPECT_EQ(*fs_->lock(cx(), *b.node, wr_b), dotl::lock_success);

  // Locks go with the fid: destroying b's node releases them.
  server::lock_request whole{dotl::lock_type_wrlck, 0, 0, 0, 100, "host-a"};
  EXPECT_EQ(*fs_->lock(cx(), *a.node, whole), dotl::lock_blocked);
  b.node.reset();
  EXPECT_EQ(*fs_->lock(cx(), *a.node, whole), dotl::lock_success);
  // Huge lengths mean "to the end"; bad types and unopened fids are errors.
  server::lock_request huge{dotl::lock_type_wrlck, 0, 1, ~0ull, 1, ""};
  EXPECT_EQ(*fs_->lock(cx(), *a.node, huge), dotl::lock_success);
  server::lock_request bad{7, 0, 0, 0, 1, ""};
  EXPECT_EQ(ec(fs_->lock(cx(), *a.node, bad)), err(EINVAL));
  auto c = at("f");
  EXPECT_EQ(ec(fs_->lock(cx(), *c.node, whole)), err(EBADF));
  // A write lock needs a file open for writing.
  ASSERT_TRUE(fs_->open(cx(), *c.node, O_RDONLY));
  EXPECT_EQ(ec(fs_->lock(cx(), *c.node, whole)), err(EBADF));
}

// ---- xattrs ----

TEST_F(local_fs_test, xattrs) {
  write_file(host("f"), "x");
  if (setxattr(host("f").c_str(), "user.probe", "1", 1, 0) != 0) {
    GTEST_SKIP() << "no user xattrs on " << tree_.exported() << ": " << strerror(errno);
  }
  removexattr(host("f").c_str(), "user.probe");
  auto f = at("f");
  ASSERT_TRUE(fs_->xattr_set(cx(), *f.node, "user.a", bytes("value"), 0));
  EXPECT_EQ(*fs_->xattr_get(cx(), *f.node, "user.a"), "value");
  EXPECT_EQ(ec(fs_->xattr_set(cx(), *f.node, "user.a", bytes("v"), dotl::xattr_create)),
            err(EEXIST));
  EXPECT_EQ(ec(fs_->xattr_set(cx(), *f.node, "user.b", bytes("v"), dotl::xattr_replace)),
            err(ENODATA));
  ASSERT_TRUE(fs_->xattr_set(cx(), *f.node, "user.b", bytes("v"), dotl::xattr_create));
  EXPECT_EQ(*fs_->xattr_get(cx(), *f.node, "user.b"), "v");
  auto list = fs_->xattr_get(cx(), *f.node, "");
  ASSERT_TRUE(list);
  EXPECT_NE(list->find(std::string("user.a\0", 7)), std::string::npos);
  EXPECT_NE(list->find(std::string("user.b\0", 7)), std::string::npos);
  // Removal: an empty value, whatever the flags (v9fs's removexattr sends XATTR_REPLACE).
  ASSERT_TRUE(fs_->xattr_set(cx(), *f.node, "user.a", {}, 0));
  EXPECT_EQ(ec(fs_->xattr_get(cx(), *f.node, "user.a")), err(ENODATA));
  ASSERT_TRUE(fs_->xattr_set(cx(), *f.node, "user.b", {}, dotl::xattr_replace));
  EXPECT_EQ(ec(fs_->xattr_get(cx(), *f.node, "user.b")), err(ENODATA));
  ASSERT_TRUE(fs_->xattr_set(cx(), *f.node, "user.b", bytes("v"), 0));
  ASSERT_TRUE(fs_->xattr_set(cx(), *f.node, "user.b", {}, dotl::xattr_create));
  EXPECT_EQ(ec(fs_->xattr_get(cx(), *f.node, "user.b")), err(ENODATA));
  EXPECT_EQ(ec(fs_->xattr_set(cx(), *f.node, "user.a", {}, 0)), err(ENODATA));
  EXPECT_EQ(ec(fs_->xattr_set(cx(), *f.node, "", bytes("v"), 0)), err(EINVAL));
  EXPECT_EQ(ec(fs_->xattr_set(cx(), *f.node, "user.c", bytes("v"), 8)), err(EINVAL));
  const std::string big(2000, 'b');  // ext4 without ea_inode: one block
  ASSERT_TRUE(fs_->xattr_set(cx(), *f.node, "user.big", bytes(big), 0));
  EXPECT_EQ(*fs_->xattr_get(cx(), *f.node, "user.big"), big);
  // On a symlink: the link itself (user.* is not allowed there), never the target.
  stdfs::create_symlink("f", host("l"));
  auto l = at("l");
  EXPECT_EQ(ec(fs_->xattr_get(cx(), *l.node, "user.big")), err(ENODATA));
  EXPECT_EQ(ec(fs_->xattr_set(cx(), *l.node, "user.x", bytes("v"), 0)), err(EPERM));
}

// ---- read-only ----

TEST_F(local_fs_test, read_only_refuses_every_change) {
  write_file(host("f"), "data");
  stdfs::create_directory(host("d"));
  local_config c;
  c.default_dir = tree_.exported().string();
  c.read_only = true;
  fs_ = make(c);
  auto r = root();
  auto f = at("f");
  auto d = at("d");
  const auto rofs = err(EROFS);
  EXPECT_EQ(ec(fs_->open(cx(), *f.node, O_RDWR)), rofs);
  EXPECT_EQ(ec(fs_->open(cx(), *f.node, O_WRONLY)), rofs);
  EXPECT_EQ(ec(fs_->open(cx(), *f.node, O_RDONLY | O_TRUNC)), rofs);
  EXPECT_EQ(ec(fs_->create(cx(), *r.node, "n", O_RDONLY, 0644, ~0u)), rofs);
  EXPECT_EQ(ec(fs_->mkdir(cx(), *r.node, "n", 0755, ~0u)), rofs);
  EXPECT_EQ(ec(fs_->symlink(cx(), *r.node, "n", "t", ~0u)), rofs);
  EXPECT_EQ(ec(fs_->mknod(cx(), *r.node, "n", S_IFIFO | 0644, 0, 0, ~0u)), rofs);
  EXPECT_EQ(ec(fs_->link(cx(), *r.node, *f.node, "n")), rofs);
  EXPECT_EQ(ec(fs_->rename(cx(), *f.node, *d.node, "n")), rofs);
  EXPECT_EQ(ec(fs_->renameat(cx(), *r.node, "f", *d.node, "n")), rofs);
  EXPECT_EQ(ec(fs_->unlinkat(cx(), *r.node, "f", 0)), rofs);
  EXPECT_EQ(ec(fs_->remove(cx(), *f.node)), rofs);
  EXPECT_EQ(ec(fs_->setattr(cx(), *f.node, server::set_attr{dotl::setattr_mode, 0777})), rofs);
  EXPECT_EQ(ec(fs_->xattr_set(cx(), *f.node, "user.a", bytes("v"), 0)), rofs);
  ASSERT_TRUE(fs_->open(cx(), *f.node, O_RDONLY));
  EXPECT_EQ(read_all(*f.node), "data");
  EXPECT_EQ(ec(fs_->write(cx(), *f.node, 0, bytes("x"))), rofs);
  ASSERT_TRUE(fs_->getattr(cx(), *f.node, dotl::getattr_basic));
  ASSERT_TRUE(fs_->statfs(cx(), *f.node));
  EXPECT_EQ(read_host(host("f")), "data");
  EXPECT_TRUE(stdfs::exists(host("f")));
}

// ---- multiuser ----

TEST_F(local_fs_test, multiuser_runs_as_the_attaching_user) {
  if (geteuid() != 0) GTEST_SKIP() << "multiuser needs root";
  stdfs::permissions(tree_.base(), stdfs::perms::all);
  stdfs::permissions(tree_.exported(), stdfs::perms::all);
  write_file(host("private"), "root only");
  stdfs::permissions(host("private"), stdfs::perms::owner_read | stdfs::perms::owner_write);
  local_config c;
  c.default_dir = tree_.exported().string();
  c.multiuser = true;
  fs_ = make(c);
  server::user nobody{"", 65534, ""};
  server::context ncx{nobody, {}};
  auto r = fs_->attach(ncx);
  ASSERT_TRUE(r);
  auto made = fs_->create(ncx, *r->node, "mine", O_RDWR, 0644, ~0u);
  ASSERT_TRUE(made);
  struct stat st {};
  ASSERT_EQ(stat(host("mine").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 65534u);
  auto dir = fs_->mkdir(ncx, *r->node, "mydir", 0755, ~0u);
  ASSERT_TRUE(dir);
  ASSERT_EQ(stat(host("mydir").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 65534u);

  auto p = fs_->walk(ncx, *r->node, "private");
  ASSERT_TRUE(p);
  EXPECT_EQ(ec(fs_->open(ncx, *p->node, O_RDONLY)), err(EACCES));
  server::set_attr s{dotl::setattr_mode, 0777};
  EXPECT_EQ(ec(fs_->setattr(ncx, *p->node, s)), err(EPERM));
  // The same node used as root works: credentials are per call.
  server::user root_user{"root", 0, ""};
  ASSERT_TRUE(fs_->open(server::context{root_user, {}}, *p->node, O_RDONLY));
  // And this thread is root again afterwards.
  write_file(host("after"), "x");
  ASSERT_EQ(stat(host("after").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);

  // By name; unknown names are refused.
  server::user by_name{"nobody", 0xffffffff, ""};
  auto rn = fs_->attach(server::context{by_name, {}});
  ASSERT_TRUE(rn);
  ASSERT_TRUE(fs_->create(server::context{by_name, {}}, *rn->node, "named", O_RDWR, 0644, ~0u));
  ASSERT_EQ(stat(host("named").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 65534u);
  server::user unknown{"no-such-user-ninep", 0xffffffff, ""};
  EXPECT_EQ(ec(fs_->attach(server::context{unknown, {}})), err(EPERM));
  // A uid without a passwd entry runs with group 65534 and no supplementary groups.
  server::user numeric{"", 424242, ""};
  server::context numcx{numeric, {}};
  auto rnum = fs_->attach(numcx);
  ASSERT_TRUE(rnum);
  ASSERT_TRUE(fs_->create(numcx, *rnum->node, "numeric", O_RDWR, 0644, ~0u));
  ASSERT_EQ(stat(host("numeric").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 424242u);
  EXPECT_EQ(st.st_gid, 65534u);
}

TEST_F(local_fs_test, multiuser_setuid_files_belong_to_their_maker) {
  if (geteuid() != 0) GTEST_SKIP() << "multiuser needs root";
  stdfs::permissions(tree_.base(), stdfs::perms::all);
  stdfs::permissions(tree_.exported(), stdfs::perms::all);
  local_config c;
  c.default_dir = tree_.exported().string();
  c.multiuser = true;
  fs_ = make(c);
  server::context ncx{server::user{"", 65534, ""}, {}};  // nobody, group 65534 (no passwd
                                                         // entry needed: numeric)
  auto r = fs_->attach(ncx);
  ASSERT_TRUE(r);
  struct stat st {};
  // setuid and setgid as asked, owned by the maker, never by root.
  ASSERT_TRUE(fs_->create(ncx, *r->node, "suid", O_RDWR, 06755, ~0u));
  ASSERT_EQ(stat(host("suid").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 65534u);
  EXPECT_EQ(st.st_mode & 07777, 06755u);
  // Asking for root's group does not give it (nobody is not a member), nor does the setgid
  // bit survive on a group the maker is not in (the kernel's chmod rule, no CAP_FSETID).
  ASSERT_TRUE(fs_->create(ncx, *r->node, "rootgroup", O_RDWR, 06755, 0));
  ASSERT_EQ(stat(host("rootgroup").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 65534u);
  EXPECT_NE(st.st_gid, 0u);
  EXPECT_EQ(st.st_mode & 07777, 06755u) << "its own group: both bits allowed";
  // A chown by the (non-root) owner clears setuid/setgid, as on any chown.
  server::set_attr s{dotl::setattr_gid, 0};
  s.gid = st.st_gid;
  ASSERT_TRUE(fs_->setattr(ncx, *at("suid").node, s));
  ASSERT_EQ(stat(host("suid").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & (S_ISUID | S_ISGID), 0u);
  // The same through root's files: nobody cannot make root's file setuid.
  write_file(host("roots"), "x");
  server::set_attr m{dotl::setattr_mode, 04755};
  EXPECT_EQ(ec(fs_->setattr(ncx, *at("roots").node, m)), err(EPERM));
}

TEST_F(local_fs_test, multiuser_credentials_are_per_thread) {
  if (geteuid() != 0) GTEST_SKIP() << "multiuser needs root";
  stdfs::permissions(tree_.base(), stdfs::perms::all);
  stdfs::permissions(tree_.exported(), stdfs::perms::all);
  local_config c;
  c.default_dir = tree_.exported().string();
  c.multiuser = true;
  fs_ = make(c);
  server::user nobody{"", 65534, ""};
  server::user root_user{"root", 0, ""};
  auto r = fs_->attach(server::context{root_user, {}});
  ASSERT_TRUE(r);
  std::atomic<bool> ok{true};
  auto worker = [&](const server::user& u, const std::string& prefix) {
    server::context wcx{u, {}};
    for (int i = 0; i < 200 && ok; ++i) {
      const std::string name = prefix + std::to_string(i);
      if (!fs_->create(wcx, *r->node, name, O_RDWR, 0644, ~0u)) ok = false;
    }
  };
  std::thread t1(worker, std::cref(nobody), "n");
  std::thread t2(worker, std::cref(root_user), "r");
  t1.join();
  t2.join();
  ASSERT_TRUE(ok);
  for (int i = 0; i < 200; ++i) {
    struct stat st {};
    ASSERT_EQ(stat(host("n" + std::to_string(i)).c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 65534u);
    ASSERT_EQ(stat(host("r" + std::to_string(i)).c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 0u);
  }
}

// ---- inode_map ----

TEST(local_fs_inode_map, devices_get_indices_in_first_seen_order) {
  inode_map m;
  EXPECT_EQ(m.device_index(0x803), 0);
  EXPECT_EQ(m.device_index(0x20), 1);
  EXPECT_EQ(m.device_index(0x803), 0);
  EXPECT_EQ(m.path(0x803, 42), 42u);
  EXPECT_EQ(m.path(0x20, 42), (std::uint64_t{1} << 48) | 42);
  EXPECT_EQ(m.path(0x99, 42), (std::uint64_t{2} << 48) | 42);
  EXPECT_NE(m.path(0x803, 42), m.path(0x20, 42));
}

TEST(local_fs_inode_map, huge_inodes_and_many_devices_stay_unique) {
  inode_map m;
  std::set<std::uint64_t> paths;
  const std::uint64_t huge = std::uint64_t{1} << 60;
  EXPECT_TRUE(paths.insert(m.path(1, huge)).second);
  EXPECT_TRUE(paths.insert(m.path(1, huge + 1)).second);
  EXPECT_TRUE(paths.insert(m.path(2, huge)).second);
  EXPECT_EQ(m.path(1, huge), m.path(1, huge));  // stable
  EXPECT_EQ(m.path(1, huge) >> 48, inode_map::overflow_index);
  bool unique = true;
  for (std::uint64_t dev = 3; dev < 70000; ++dev)
    unique = unique && paths.insert(m.path(dev, 7)).second;
  EXPECT_TRUE(unique);
  EXPECT_EQ(m.device_index(69999), inode_map::overflow_index);
  EXPECT_EQ(m.path(69999, 7), m.path(69999, 7));
}

}  // namespace
}  // namespace ninep::fs::testing
