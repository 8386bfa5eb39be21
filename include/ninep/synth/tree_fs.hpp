// SPDX-License-Identifier: MIT
#pragma once

#include <memory>
#include <ninep/server/filesystem.hpp>
#include <ninep/synth/node.hpp>
#include <string>

/// \file
/// Serves a synth tree (node.hpp) through the server::filesystem interface, and mounts other
/// filesystems inside it.

namespace ninep::synth {

/// A directory entry that shows another filesystem: walking onto it attaches `fs` (as the
/// walking user, aname replaced by `aname`) and returns that root with walked::fs set, so the
/// server calls `fs` itself for it and everything below; ".." from the mounted root leads
/// back to the directory holding the mount point (the server's doing too), and requests
/// joining a node inside with one outside (rename, link) get EXDEV. Qid paths from `fs` are
/// XORed with the mount point's id << 48 (walked::qid_salt). A mount point cannot be removed
/// (EBUSY).
class mount_point : public entry {
 public:
  mount_point(std::shared_ptr<server::filesystem> fs, std::string aname = {});
  const std::shared_ptr<server::filesystem>& fs() const noexcept { return fs_; }
  const std::string& aname() const noexcept { return aname_; }

 private:
  std::shared_ptr<server::filesystem> fs_;
  std::string aname_;
};

/// A mount_point for `fs`.
std::shared_ptr<mount_point> mount(std::shared_ptr<server::filesystem> fs, std::string aname = {});

/// Serves the tree under `root` (every aname attaches it). Handles walk (".." included),
/// readdir with resumable cookies (the entry's index, over a snapshot taken when the listing
/// starts), qids, getattr/setattr, open modes, permission checks against cx.user.uid (owner
/// or other class; root passes unless no class has the bit), create/mkdir/unlink/rename in
/// client_writable() directories, per-fid handles, and mount points. Operations a tree does
/// not support answer EOPNOTSUPP (the defaults: symlink, mknod, link, xattrs); fsync
/// succeeds; locks always succeed.
class tree_fs final : public server::filesystem {
 public:
  explicit tree_fs(std::shared_ptr<dir> root);
  static std::shared_ptr<tree_fs> make(std::shared_ptr<dir> root);
  const std::shared_ptr<dir>& root() const noexcept { return root_; }

  result<server::walked> attach(const context& cx) override;
  result<server::walked> walk(const context& cx, server::node& from,
                              std::string_view name) override;
  result<server::node_ptr> clone(const context& cx, const server::node_ptr& n) override;
  std::optional<result<server::attr>> try_getattr(const context& cx, server::node& n,
                                                  std::uint64_t request_mask) override;
  result<server::attr> getattr(const context& cx, server::node& n,
                               std::uint64_t request_mask) override;
  result<void> setattr(const context& cx, server::node& n, const server::set_attr& a) override;
  result<server::opened> open(const context& cx, server::node& n, int flags) override;
  result<server::created> create(const context& cx, server::node& dir, std::string_view name,
                                 int flags, std::uint32_t mode, std::uint32_t gid) override;
  /// Waits on the calling thread when the file's handle waits (stream_file); the server uses
  /// async_read, which does not.
  result<std::size_t> read(const context& cx, server::node& n, std::uint64_t offset,
                           std::span<std::byte> out) override;
  void async_read(const context& cx, server::node& n, std::uint64_t offset,
                  std::span<std::byte> out, read_callback done) override;
  result<std::size_t> write(const context& cx, server::node& n, std::uint64_t offset,
                            std::span<const std::byte> in) override;
  result<void> readdir(const context& cx, server::node& n, std::uint64_t cookie,
                       server::dirent_sink& out) override;
  result<void> fsync(const context& cx, server::node& n, bool datasync) override;
  result<server::fs_stat> statfs(const context& cx, server::node& n) override;
  result<wire::qid> mkdir(const context& cx, server::node& dir, std::string_view name,
                          std::uint32_t mode, std::uint32_t gid) override;
  result<std::string> readlink(const context& cx, server::node& n) override;
  result<void> rename(const context& cx, server::node& n, server::node& newdir,
                      std::string_view name) override;
  result<void> renameat(const context& cx, server::node& olddir, std::string_view oldname,
                        server::node& newdir, std::string_view newname) override;
  result<void> unlinkat(const context& cx, server::node& dir, std::string_view name,
                        std::uint32_t flags) override;
  result<void> remove(const context& cx, server::node& n) override;
  result<std::uint8_t> lock(const context& cx, server::node& n,
                            const server::lock_request& l) override;
  result<server::lock_request> getlock(const context& cx, server::node& n,
                                       const server::lock_request& l) override;

 private:
  std::shared_ptr<dir> root_;
};

}  // namespace ninep::synth
