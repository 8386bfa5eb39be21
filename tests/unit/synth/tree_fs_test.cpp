// SPDX-License-Identifier: MIT
// synth::tree_fs and the tree types, called directly through the filesystem interface.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <ninep/core/error.hpp>
#include <ninep/synth/files.hpp>
#include <ninep/synth/tree_fs.hpp>
#include <ninep/wire/dotl.hpp>
#include <set>

#include "synth_test_util.hpp"

namespace ninep {
namespace {

using namespace test;
namespace dotl = wire::dotl;

int error_of(const auto& r) { return r ? 0 : r.error().value(); }

class tree_fs_test : public ::testing::Test {
 protected:
  std::shared_ptr<synth::dir> root = std::make_shared<synth::dir>();
  std::shared_ptr<synth::tree_fs> fs = synth::tree_fs::make(root);
  caller root_user{0};
  caller alice{1000};
};

TEST_F(tree_fs_test, walk_and_dotdot) {
  auto sub = *root->subdir("a");
  auto subsub = *sub->subdir("b");
  ASSERT_TRUE(subsub->add("f", synth::static_file("hello\n")));
  auto cx = root_user.cx();
  auto r = fs->attach(cx);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->qid.type, wire::qt::dir);
  EXPECT_EQ(r->qid.path, root->id());
  auto f = walk_path(*fs, cx, "a/b/f");
  EXPECT_EQ(f.qid.type, wire::qt::file);
  EXPECT_EQ(f.qid.path, subsub->find("f")->id());
  EXPECT_EQ(read_all(*fs, cx, "a/b/f"), "hello\n");

  auto b = walk_path(*fs, cx, "a/b");
  auto up = fs->walk(cx, *b.node, "..");
  ASSERT_TRUE(up);
  EXPECT_EQ(up->qid.path, sub->id());
  auto top = fs->walk(cx, *r->node, "..");
  ASSERT_TRUE(top);
  EXPECT_EQ(top->qid.path, root->id()) << ".. at the root stays there";

  EXPECT_EQ(error_of(fs->walk(cx, *r->node, "missing")), ENOENT);
  EXPECT_EQ(error_of(fs->walk(cx, *f.node, "x")), ENOTDIR);
}

TEST_F(tree_fs_test, subtree_served_alone_does_not_escape) {
  auto sub = *root->subdir("a");
  auto inner = synth::tree_fs::make(sub);
  auto cx = root_user.cx();
  auto r = inner->attach(cx);
  auto up = inner->walk(cx, *r->node, "..");
  ASSERT_TRUE(up);
  EXPECT_EQ(up->qid.path, sub->id());
}

TEST_F(tree_fs_test, qid_versions_change_with_content) {
  auto f = synth::writable_file("x");
  ASSERT_TRUE(root->add("f", f));
  auto cx = root_user.cx();
  auto w = walk_path(*fs, cx, "f");
  auto before = w.qid;
  ASSERT_TRUE(fs->open(cx, *w.node, O_RDWR));
  ASSERT_TRUE(fs->write(cx, *w.node, 0, bytes("yz")));
  auto a = fs->getattr(cx, *w.node, dotl::getattr_all);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->qid.path, before.path);
  EXPECT_NE(a->qid.version, before.version);
  EXPECT_EQ(a->size, 2u);
  EXPECT_EQ(a->mode, S_IFREG | 0644u);
}

TEST_F(tree_fs_test, large_directory_listed_across_calls) {
  constexpr int n = 5000;
  for (int i = 0; i < n; ++i)
    ASSERT_TRUE(root->add("file" + std::to_string(i), synth::static_file("x")));
  auto cx = root_user.cx();
  auto r = fs->attach(cx);
  ASSERT_TRUE(fs->open(cx, *r->node, O_RDONLY | O_DIRECTORY));
  std::set<std::string> seen;
  std::set<std::uint64_t> paths;
  std::uint64_t cookie = 0;
  int calls = 0;
  for (;;) {
    collect_sink sink(97);
    ASSERT_TRUE(fs->readdir(cx, *r->node, cookie, sink));
    if (sink.items.empty()) break;
    ++calls;
    for (auto& it : sink.items) {
      EXPECT_TRUE(seen.insert(it.name).second) << "duplicate " << it.name;
      if (it.name != "." && it.name != "..") {
        EXPECT_TRUE(paths.insert(it.qid.path).second);
        EXPECT_EQ(it.type, DT_REG);
      }
      cookie = it.next;
    }
    // Changing the directory mid-listing must not disturb the listing's cookies.
    if (calls == 3) {
      ASSERT_TRUE(root->remove("file0"));
    }
  }
  EXPECT_EQ(seen.size(), n + 2u);
  EXPECT_TRUE(seen.contains(".") && seen.contains(".."));
  EXPECT_GT(calls, 50);
  // A listing restarted at cookie 0 sees the change.
  collect_sink all;
  ASSERT_TRUE(fs->readdir(cx, *r->node, 0, all));
  EXPECT_EQ(all.items.size(), n + 1u);
}

TEST_F(tree_fs_test, default_replies) {
  ASSERT_TRUE(root->add("ro", synth::static_file("data")));
  ASSERT_TRUE(root->add("plain", std::make_shared<synth::file>(0666)));
  auto cx = root_user.cx();
  auto r = fs->attach(cx);
  auto ro = walk_path(*fs, cx, "ro");
  EXPECT_EQ(error_of(fs->open(cx, *ro.node, O_WRONLY)), EACCES) << "no write bits: even root";
  EXPECT_EQ(error_of(fs->open(cx, *r->node, O_RDWR)), EISDIR);
  EXPECT_EQ(error_of(fs->open(cx, *ro.node, O_RDONLY | O_DIRECTORY)), ENOTDIR);
  // A file that implements nothing: EOPNOTSUPP, at once.
  auto plain = walk_path(*fs, cx, "plain");
  ASSERT_TRUE(fs->open(cx, *plain.node, O_RDWR));
  std::byte buf[8];
  EXPECT_EQ(error_of(fs->read(cx, *plain.node, 0, buf)), EOPNOTSUPP);
  EXPECT_EQ(error_of(fs->write(cx, *plain.node, 0, bytes("x"))), EOPNOTSUPP);
  // The tree itself: no symlinks, devices, links or xattrs; no changes in a program's dirs.
  EXPECT_EQ(error_of(fs->symlink(cx, *r->node, "l", "t", 0)), EOPNOTSUPP);
  EXPECT_EQ(error_of(fs->mknod(cx, *r->node, "n", S_IFIFO | 0600, 0, 0, 0)), EOPNOTSUPP);
  EXPECT_EQ(error_of(fs->xattr_get(cx, *ro.node, "user.x")), EOPNOTSUPP);
  EXPECT_EQ(error_of(fs->readlink(cx, *ro.node)), EINVAL);
  EXPECT_EQ(error_of(fs->create(cx, *r->node, "new", O_RDWR, 0644, 0)), EACCES);
  EXPECT_EQ(error_of(fs->mkdir(cx, *r->node, "d", 0755, 0)), EACCES);
  EXPECT_EQ(error_of(fs->unlinkat(cx, *r->node, "ro", 0)), EACCES);
  EXPECT_EQ(error_of(fs->remove(cx, *r->node)), EBUSY);
  // Unwritten but harmless: truncation to 0 of a synthetic file, fsync, locks.
  server::set_attr sa;
  sa.valid = dotl::setattr_size;
  EXPECT_TRUE(fs->setattr(cx, *plain.node, sa));
  sa.size = 5;
  EXPECT_EQ(error_of(fs->setattr(cx, *plain.node, sa)), EOPNOTSUPP);
  EXPECT_TRUE(fs->fsync(cx, *plain.node, false));
  EXPECT_EQ(*fs->lock(cx, *plain.node, {}), dotl::lock_success);
  auto st = fs->statfs(cx, *r->node);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->type, dotl::v9fs_magic);
}

TEST_F(tree_fs_test, permission_checks_by_uid) {
  auto mine = synth::writable_file("secret", 0600);
  mine->set_owner(1000, 1000);
  auto theirs = synth::writable_file("theirs", 0640);
  auto closed = std::make_shared<synth::dir>(0700);
  ASSERT_TRUE(root->add("mine", mine));
  ASSERT_TRUE(root->add("theirs", theirs));
  ASSERT_TRUE(root->add("closed", closed));
  ASSERT_TRUE(closed->add("f", synth::static_file("x")));
  auto a = alice.cx();
  auto bob_caller = caller(1001);
  auto b = bob_caller.cx();
  auto m = walk_path(*fs, a, "mine");
  EXPECT_TRUE(fs->open(a, *m.node, O_RDWR)) << "owner class";
  auto mb = walk_path(*fs, b, "mine");
  EXPECT_EQ(error_of(fs->open(b, *mb.node, O_RDONLY)), EACCES) << "other class";
  auto t = walk_path(*fs, a, "theirs");
  EXPECT_EQ(error_of(fs->open(a, *t.node, O_RDONLY)), EACCES) << "group class is never granted";
  auto cl = walk_path(*fs, a, "closed");
  EXPECT_EQ(error_of(fs->walk(a, *cl.node, "f")), EACCES) << "no search permission";
  auto cr = walk_path(*fs, root_user.cx(), "closed/f");
  EXPECT_EQ(cr.qid.type, wire::qt::file) << "root passes";

  // chmod: owner or root; chown: root.
  server::set_attr sa;
  sa.valid = dotl::setattr_mode;
  sa.mode = 0644;
  EXPECT_EQ(error_of(fs->setattr(b, *mb.node, sa)), EPERM);
  EXPECT_TRUE(fs->setattr(a, *m.node, sa));
  EXPECT_EQ(mine->mode(), S_IFREG | 0644u);
  sa.valid = dotl::setattr_uid;
  sa.uid = 0;
  EXPECT_EQ(error_of(fs->setattr(a, *m.node, sa)), EPERM);
  EXPECT_TRUE(fs->setattr(root_user.cx(), *m.node, sa));
  EXPECT_EQ(mine->uid(), 0u);
}

TEST_F(tree_fs_test, writable_tree_create_rename_truncate_remove) {
  auto rw = synth::dir::make_writable(0777);
  ASSERT_TRUE(root->add("rw", rw));
  auto a = alice.cx();
  auto d = walk_path(*fs, a, "rw");
  auto c = fs->create(a, *d.node, "f", O_RDWR, 0444, ~0u);
  ASSERT_TRUE(c);
  EXPECT_EQ(*fs->write(a, *c->node, 0, bytes("hello world")), 11u) << "creator may write 0444";
  auto made = rw->find("f");
  ASSERT_TRUE(made);
  EXPECT_EQ(made->uid(), 1000u);
  EXPECT_EQ(made->mode(), S_IFREG | 0444u);
  EXPECT_EQ(error_of(fs->create(a, *d.node, "f", O_RDWR, 0644, 0)), EEXIST);

  auto q = fs->mkdir(a, *d.node, "sub", 0755, 0);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->type, wire::qt::dir);
  auto sub = walk_path(*fs, a, "rw/sub");
  ASSERT_TRUE(fs->renameat(a, *d.node, "f", *sub.node, "g"));
  EXPECT_FALSE(rw->find("f"));
  EXPECT_EQ(read_all(*fs, a, "rw/sub/g"), "hello world");
  // Tsetattr size on a file the user cannot write: EACCES; chmod then truncate.
  auto g = walk_path(*fs, a, "rw/sub/g");
  server::set_attr sa;
  sa.valid = dotl::setattr_size;
  sa.size = 5;
  EXPECT_EQ(error_of(fs->setattr(a, *g.node, sa)), EACCES);
  server::set_attr mode;
  mode.valid = dotl::setattr_mode;
  mode.mode = 0644;
  ASSERT_TRUE(fs->setattr(a, *g.node, mode));
  ASSERT_TRUE(fs->setattr(a, *g.node, sa));
  EXPECT_EQ(read_all(*fs, a, "rw/sub/g"), "hello");
  // Trename (fid form), and a directory cannot go under itself.
  ASSERT_TRUE(fs->rename(a, *g.node, *d.node, "h"));
  EXPECT_TRUE(rw->find("h"));
  EXPECT_EQ(error_of(fs->renameat(a, *d.node, "sub", *sub.node, "loop")), EINVAL);
  // unlink rules.
  EXPECT_EQ(error_of(fs->unlinkat(a, *d.node, "sub", 0)), EISDIR);
  EXPECT_EQ(error_of(fs->unlinkat(a, *d.node, "h", dotl::at_removedir)), ENOTDIR);
  ASSERT_TRUE(fs->create(a, *sub.node, "x", O_WRONLY, 0644, 0));
  EXPECT_EQ(error_of(fs->unlinkat(a, *d.node, "sub", dotl::at_removedir)), ENOTEMPTY);
  auto x = walk_path(*fs, a, "rw/sub/x");
  ASSERT_TRUE(fs->remove(a, *x.node));
  ASSERT_TRUE(fs->unlinkat(a, *d.node, "sub", dotl::at_removedir));
  // O_TRUNC at open and O_APPEND writes.
  auto h = walk_path(*fs, a, "rw/h");
  ASSERT_TRUE(fs->open(a, *h.node, O_WRONLY | O_APPEND));
  ASSERT_TRUE(fs->write(a, *h.node, 0, bytes("!")));
  EXPECT_EQ(read_all(*fs, a, "rw/h"), "hello!");
  auto h2 = walk_path(*fs, a, "rw/h");
  ASSERT_TRUE(fs->open(a, *h2.node, O_WRONLY | O_TRUNC));
  EXPECT_EQ(read_all(*fs, a, "rw/h"), "");
  // Another user may not change alice's 0755 directory.
  caller bob(1001);
  auto bd = walk_path(*fs, bob.cx(), "rw");
  ASSERT_TRUE(fs->mkdir(a, *d.node, "private", 0755, 0));
  auto p = walk_path(*fs, bob.cx(), "rw/private");
  EXPECT_EQ(error_of(fs->create(bob.cx(), *p.node, "f", O_RDWR, 0644, 0)), EACCES);
}

TEST_F(tree_fs_test, per_open_snapshots_and_ctl) {
  int generation = 0;
  ASSERT_TRUE(root->add("gen", synth::dynamic_file([&](const synth::context& cx) {
                          return "gen " + std::to_string(++generation) + " for " + cx.user.name +
                                 "\n";
                        })));
  std::vector<std::string> commands;
  ASSERT_TRUE(root->add("ctl", synth::ctl_file([&](const synth::context&, std::string_view c) {
                          if (c == "bad") return result<void>(fail(errno_code(EINVAL)));
                          commands.emplace_back(c);
                          return result<void>();
                        })));
  auto cx = root_user.cx();
  // Two opens, two snapshots; each read by offset from its own.
  auto one = walk_path(*fs, cx, "gen");
  auto two = walk_path(*fs, cx, "gen");
  ASSERT_TRUE(fs->open(cx, *one.node, O_RDONLY));
  ASSERT_TRUE(fs->open(cx, *two.node, O_RDONLY));
  std::byte buf[64];
  auto n1 = fs->read(cx, *one.node, 4, buf);
  EXPECT_EQ(text({buf, *n1}), "1 for u\n");
  auto n2 = fs->read(cx, *two.node, 0, buf);
  EXPECT_EQ(text({buf, *n2}), "gen 2 for u\n");
  // A clone is a new fid: not open, its own state after open.
  auto cl = fs->clone(cx, one.node);
  ASSERT_TRUE(cl);
  EXPECT_EQ(error_of(fs->read(cx, **cl, 0, buf)), EBADF);

  auto c = walk_path(*fs, cx, "ctl");
  EXPECT_EQ(error_of(fs->open(cx, *c.node, O_RDONLY)), EACCES) << "write-only ctl";
  ASSERT_TRUE(fs->open(cx, *c.node, O_WRONLY | O_TRUNC));
  EXPECT_EQ(*fs->write(cx, *c.node, 0, bytes("start")), 5u);
  EXPECT_EQ(error_of(fs->write(cx, *c.node, 5, bytes("bad"))), EINVAL);
  EXPECT_EQ(commands, std::vector<std::string>{"start"});
}

// The tree only hands the mounted root over; the server calls the mounted filesystem from
// there (tests/unit/synth/server_test.cpp serves the same through a server).
TEST_F(tree_fs_test, mount_point_hands_over_the_mounted_filesystem) {
  auto other_root = synth::dir::make_writable(0777);
  ASSERT_TRUE(other_root->add("inner", synth::static_file("from the other tree")));
  auto other = synth::tree_fs::make(other_root);
  auto d = *root->subdir("mnt", 0777);
  d->set_client_writable(true);
  auto mp = synth::mount(other, "sub");
  ASSERT_TRUE(d->add("other", mp));
  caller c(0);
  c.user.aname = "outer";
  auto m = walk_path(*fs, c.cx(), "mnt/other");
  EXPECT_EQ(m.fs, other) << "the node is the mounted filesystem's";
  EXPECT_EQ(m.qid_salt, mp->id() << 48);
  EXPECT_EQ(m.qid, other_root->qid()) << "the mounted filesystem's own qid, unsalted";
  // The node is `other`'s: calls on it go there.
  auto inner = other->walk(c.cx(), *m.node, "inner");
  ASSERT_TRUE(inner);
  EXPECT_FALSE(inner->fs);
  ASSERT_TRUE(other->open(c.cx(), *inner->node, O_RDONLY));
  std::byte buf[64];
  auto n = other->read(c.cx(), *inner->node, 0, buf);
  ASSERT_TRUE(n);
  EXPECT_EQ(text({buf, *n}), "from the other tree");
  // A mount point is part of the tree's structure: it cannot be removed.
  auto dn = walk_path(*fs, c.cx(), "mnt");
  EXPECT_EQ(error_of(fs->unlinkat(c.cx(), *dn.node, "other", 0)), EBUSY);
}

TEST_F(tree_fs_test, mount_point_attaches_with_its_own_aname) {
  struct recorder final : server::filesystem {
    std::string aname;
    result<server::walked> attach(const server::context& cx) override {
      aname = cx.user.aname;
      return server::walked{std::make_shared<server::node>(), wire::qid{wire::qt::dir, 0, 5}};
    }
    result<server::walked> walk(const server::context&, server::node&, std::string_view) override {
      return fail(errno_code(ENOENT));
    }
  };
  auto r = std::make_shared<recorder>();
  ASSERT_TRUE(root->add("m", synth::mount(r, "inside")));
  caller c(0);
  c.user.aname = "outer";
  auto w = walk_path(*fs, c.cx(), "m");
  EXPECT_EQ(r->aname, "inside");
  EXPECT_EQ(w.fs, r);
  EXPECT_EQ(w.qid.path, 5u) << "salting is the server's, when it answers";
}

}  // namespace
}  // namespace ninep
