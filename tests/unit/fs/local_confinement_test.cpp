// SPDX-License-Identifier: MIT
// local_fs must never reach outside an export root: "..", symlinks (absolute, relative,
// swapped in after walk), names with '/', and client-made hard links.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "local_test_util.hpp"

namespace ninep::fs::testing {
namespace {

namespace dotl = wire::dotl;

class local_fs_confinement : public fs_fixture {
 protected:
  void SetUp() override {
    write_file(tree_.outside() / "secret", "outside secret");
    stdfs::create_directory(tree_.outside() / "dir");
    write_file(tree_.outside() / "dir" / "inner", "outside inner");
    stdfs::create_directories(host("d/sub"));
    write_file(host("d/file"), "inside");
    fs_fixture::SetUp();
  }

  /// Everything under outside/, to compare before and after.
  std::vector<std::string> outside_listing() const {
    std::vector<std::string> v;
    for (const auto& e : stdfs::recursive_directory_iterator(tree_.outside())) {
      v.push_back(e.path().string() + ":" +
                  (e.is_regular_file() ? read_host(e.path()) : std::string("<dir>")));
    }
    std::sort(v.begin(), v.end());
    return v;
  }
};

TEST_F(local_fs_confinement, dotdot_at_root_stays_at_root) {
  auto r = root();
  auto up = fs_->walk(cx(), *r.node, "..");
  ASSERT_TRUE(up);
  EXPECT_EQ(up->qid, r.qid);
  auto upup = fs_->walk(cx(), *up->node, "..");
  ASSERT_TRUE(upup);
  EXPECT_EQ(upup->qid, r.qid);
  // And the root's listing shows no foreign inode for "..".
  ASSERT_TRUE(fs_->open(cx(), *r.node, O_RDONLY | O_DIRECTORY));
  collect_sink sink;
  ASSERT_TRUE(fs_->readdir(cx(), *r.node, 0, sink));
  for (const auto& it : sink.items) {
    if (it.name == "..") {
      EXPECT_EQ(it.qid.path, r.qid.path);
    }
  }
}

TEST_F(local_fs_confinement, dotdot_below_root_goes_up) {
  auto d = at("d");
  auto sub = at("d/sub");
  auto up = fs_->walk(cx(), *sub.node, "..");
  ASSERT_TRUE(up);
  EXPECT_EQ(up->qid.path, d.qid.path);
  auto up2 = fs_->walk(cx(), *up->node, "..");
  ASSERT_TRUE(up2);
  EXPECT_EQ(up2->qid.path, root().qid.path);
  auto up3 = fs_->walk(cx(), *up2->node, "..");
  ASSERT_TRUE(up3);
  EXPECT_EQ(up3->qid.path, root().qid.path);
}

TEST_F(local_fs_confinement, dotdot_of_dir_moved_outside_is_refused) {
  auto d = at("d");
  // The host administrator moves the directory out of the export while a fid holds it.
  stdfs::rename(host("d"), tree_.outside() / "moved");
  auto up = fs_->walk(cx(), *d.node, "..");
  ASSERT_FALSE(up);
  EXPECT_EQ(up.error(), err(EACCES));
}

TEST_F(local_fs_confinement, names_with_slash_or_nul_are_rejected) {
  auto r = root();
  for (std::string_view bad :
       {std::string_view("d/file"), std::string_view("../outside"), std::string_view("/etc"),
        std::string_view("a\0b", 3), std::string_view("")}) {
    auto w = fs_->walk(cx(), *r.node, bad);
    ASSERT_FALSE(w) << bad;
    EXPECT_EQ(w.error(), err(EINVAL));
    EXPECT_EQ(ec(fs_->create(cx(), *r.node, bad, O_RDWR, 0644, ~0u)), err(EINVAL));
    EXPECT_EQ(ec(fs_->mkdir(cx(), *r.node, bad, 0755, ~0u)), err(EINVAL));
    EXPECT_EQ(ec(fs_->unlinkat(cx(), *r.node, bad, 0)), err(EINVAL));
    EXPECT_EQ(ec(fs_->symlink(cx(), *r.node, bad, "x", ~0u)), err(EINVAL));
  }
  EXPECT_EQ(ec(fs_->unlinkat(cx(), *r.node, "..", dotl::at_removedir)), err(EINVAL));
  EXPECT_EQ(ec(fs_->renameat(cx(), *r.node, "d", *r.node, "../escaped")), err(EINVAL));
  EXPECT_TRUE(stdfs::exists(host("d")));
}

TEST_F(local_fs_confinement, symlinks_to_outside_are_not_followed) {
  const auto before = outside_listing();
  stdfs::create_symlink(tree_.outside() / "secret", host("abs"));
  stdfs::create_symlink("../outside/secret", host("rel"));
  stdfs::create_symlink(tree_.outside() / "dir", host("absdir"));
  stdfs::create_symlink("../../outside/dir", host("d/reldir"));
  auto r = root();
  for (const char* name : {"abs", "rel", "absdir", "d/reldir"}) {
    auto w = walk_path(name);
    ASSERT_TRUE(w) << name;
    EXPECT_EQ(w->qid.type, wire::qt::symlink) << name;
    EXPECT_EQ(ec(fs_->open(cx(), *w->node, O_RDONLY)), err(ELOOP)) << name;
    EXPECT_EQ(ec(fs_->open(cx(), *w->node, O_RDONLY | O_DIRECTORY)), err(ELOOP)) << name;
    auto through = fs_->walk(cx(), *w->node, "inner");
    ASSERT_FALSE(through) << name;
    EXPECT_EQ(through.error(), err(ENOTDIR));
    auto target = fs_->readlink(cx(), *w->node);
    ASSERT_TRUE(target);
    EXPECT_NE(target->find("outside"), std::string::npos);
    // getattr describes the link, not its target.
    auto a = fs_->getattr(cx(), *w->node, dotl::getattr_basic);
    ASSERT_TRUE(a);
    EXPECT_TRUE(S_ISLNK(a->mode));
  }
  // Creating through a symlink name must not create or truncate its target.
  auto c = fs_->create(cx(), *r.node, "abs", O_RDWR | O_TRUNC, 0644, ~0u);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error(), err(ELOOP));
  EXPECT_EQ(outside_listing(), before);
}

TEST_F(local_fs_confinement, dangling_symlink_create_does_not_create_outside) {
  stdfs::create_symlink(tree_.outside() / "new-file", host("dangling"));
  auto c = fs_->create(cx(), *root().node, "dangling", O_RDWR, 0644, ~0u);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error(), err(ELOOP));
  EXPECT_FALSE(stdfs::exists(tree_.outside() / "new-file"));
}

TEST_F(local_fs_confinement, symlink_swapped_in_after_walk_is_not_followed) {
  const auto before = outside_listing();
  auto d = at("d");
  auto file = at("d/file");
  // Between walk and use, the directory is replaced by a symlink to outside.
  stdfs::rename(host("d"), host("d.old"));
  stdfs::create_symlink(tree_.outside() / "dir", host("d"));
  write_file(tree_.outside() / "dir" / "file", "outside file");

  // Opening the old node reaches the old inode (now d.old), never outside/dir.
  ASSERT_TRUE(fs_->open(cx(), *d.node, O_RDONLY | O_DIRECTORY));
  collect_sink sink;
  ASSERT_TRUE(fs_->readdir(cx(), *d.node, 0, sink));
  std::vector<std::string> names;
  for (const auto& it : sink.items) names.push_back(it.name);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{".", "..", "file", "sub"}));

  // Creating through the old node creates inside d.old.
  auto c = fs_->create(cx(), *d.node, "made", O_RDWR, 0644, ~0u);
  ASSERT_TRUE(c);
  EXPECT_TRUE(stdfs::exists(host("d.old/made")));
  ASSERT_TRUE(fs_->mkdir(cx(), *d.node, "newdir", 0755, ~0u));
  EXPECT_TRUE(stdfs::is_directory(host("d.old/newdir")));
  // Walk from the old node stays in the old directory.
  auto w = fs_->walk(cx(), *d.node, "file");
  ASSERT_TRUE(w);
  ASSERT_TRUE(fs_->open(cx(), *w->node, O_RDONLY));
  EXPECT_EQ(read_all(*w->node), "inside");
  // A file node opened after its name was replaced still reads the original inode.
  stdfs::remove(host("d.old/file"));
  stdfs::create_symlink(tree_.outside() / "secret", host("d.old/file"));
  ASSERT_TRUE(fs_->open(cx(), *file.node, O_RDONLY));
  EXPECT_EQ(read_all(*file.node), "inside");
  // Remove through the stale node refuses to unlink whatever now has its name.
  auto f2 = fs_->clone(cx(), file.node);
  ASSERT_TRUE(f2);
  EXPECT_EQ(ec(fs_->remove(cx(), **f2)), err(ESTALE));
  EXPECT_TRUE(stdfs::is_symlink(host("d.old/file")));

  stdfs::remove(tree_.outside() / "dir" / "file");
  EXPECT_EQ(outside_listing(), before);
}

TEST_F(local_fs_confinement, tlink_cannot_reach_outside_files) {
  stdfs::create_symlink(tree_.outside() / "secret", host("to-secret"));
  auto link_node = at("to-secret");
  auto r = root();
  // Linking a symlink node links the symlink itself, not the file it names.
  ASSERT_TRUE(fs_->link(cx(), *r.node, *link_node.node, "linked"));
  EXPECT_TRUE(stdfs::is_symlink(host("linked")));
  struct stat inside {
  }, outside{};
  ASSERT_EQ(lstat(host("linked").c_str(), &inside), 0);
  ASSERT_EQ(stat((tree_.outside() / "secret").c_str(), &outside), 0);
  EXPECT_NE(inside.st_ino, outside.st_ino);
  EXPECT_EQ(outside.st_nlink, 1u);
}

TEST_F(local_fs_confinement, host_hard_link_to_outside_file_is_the_same_inode) {
  // Documented: a hard link the host administrator makes *is* the outside inode; there is no
  // path to check. Serving it is not an escape through 9P, but it is visible.
  ASSERT_EQ(::link((tree_.outside() / "secret").c_str(), host("hardlink").c_str()), 0);
  auto w = at("hardlink");
  ASSERT_TRUE(fs_->open(cx(), *w.node, O_RDONLY));
  EXPECT_EQ(read_all(*w.node), "outside secret");
}

TEST_F(local_fs_confinement, export_root_symlink_in_config_is_resolved_once) {
  // The administrator's path may contain symlinks; after that nothing is followed.
  stdfs::create_symlink(tree_.exported(), tree_.base() / "alias");
  local_config c;
  c.default_dir = (tree_.base() / "alias").string();
  auto fs = local_fs::make(c);
  ASSERT_TRUE(fs);
  auto r = (*fs)->attach(cx());
  ASSERT_TRUE(r);
  EXPECT_TRUE((*fs)->walk(cx(), *r->node, "d"));
}

}  // namespace
}  // namespace ninep::fs::testing
