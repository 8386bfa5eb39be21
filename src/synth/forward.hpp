// SPDX-License-Identifier: MIT
// Private: a node of another filesystem, and calls delegated to it. Shared by mount points
// in a tree (tree_fs) and by aname_mux.
#pragma once

#include <memory>
#include <ninep/server/filesystem.hpp>
#include <ninep/synth/node.hpp>
#include <ninep/synth/tree_fs.hpp>

namespace ninep::synth::detail {

/// A node of `fs`, wrapped so that the outer filesystem can route calls on it.
class foreign_node final : public server::node {
 public:
  std::shared_ptr<server::filesystem> fs;
  server::node_ptr inner;
  /// XORed into every qid.path from `fs`, so paths from a mount do not collide with the
  /// tree's own (best effort; 0 for aname_mux, whose filesystems are separate mounts).
  std::uint64_t salt = 0;
  /// Tree mounts: the directory holding the mount point, where ".." at depth 0 leads.
  std::shared_ptr<dir> mount_parent;
  /// Tree mounts: how far below the mounted root this node is.
  std::size_t depth = 0;

  /// A sibling wrapper for `n` at depth `d`.
  std::shared_ptr<foreign_node> wrap(server::node_ptr n, std::size_t d) const;
  wire::qid salted(wire::qid q) const {
    q.path ^= salt;
    return q;
  }
};

/// The foreign node `n` is, or null.
inline foreign_node* as_foreign(server::node& n) { return dynamic_cast<foreign_node*>(&n); }

// Each call below is the filesystem call of the same name on `f.fs` with `f.inner`, results
// wrapped and qids salted. Two-node calls need both nodes foreign to the same filesystem
// (EXDEV otherwise).
using server::context;
result<server::walked> fwd_walk(const context& cx, foreign_node& f, std::string_view name);
result<server::node_ptr> fwd_clone(const context& cx, foreign_node& f);
result<server::attr> fwd_getattr(const context& cx, foreign_node& f, std::uint64_t mask);
std::optional<result<server::attr>> fwd_try_getattr(const context& cx, foreign_node& f,
                                                    std::uint64_t mask);
std::optional<result<std::size_t>> fwd_try_read(const context& cx, foreign_node& f,
                                                std::uint64_t off, std::span<std::byte> out);
result<void> fwd_setattr(const context& cx, foreign_node& f, const server::set_attr& a);
result<server::opened> fwd_open(const context& cx, foreign_node& f, int flags);
result<server::created> fwd_create(const context& cx, foreign_node& f, std::string_view name,
                                   int flags, std::uint32_t mode, std::uint32_t gid);
result<std::size_t> fwd_read(const context& cx, foreign_node& f, std::uint64_t off,
                             std::span<std::byte> out);
void fwd_async_read(const context& cx, foreign_node& f, std::uint64_t off, std::span<std::byte> out,
                    read_callback done);
result<std::size_t> fwd_write(const context& cx, foreign_node& f, std::uint64_t off,
                              std::span<const std::byte> in);
result<void> fwd_readdir(const context& cx, foreign_node& f, std::uint64_t cookie,
                         server::dirent_sink& out);
result<void> fwd_fsync(const context& cx, foreign_node& f, bool datasync);
result<server::fs_stat> fwd_statfs(const context& cx, foreign_node& f);
result<wire::qid> fwd_mkdir(const context& cx, foreign_node& f, std::string_view name,
                            std::uint32_t mode, std::uint32_t gid);
result<wire::qid> fwd_symlink(const context& cx, foreign_node& f, std::string_view name,
                              std::string_view target, std::uint32_t gid);
result<wire::qid> fwd_mknod(const context& cx, foreign_node& f, std::string_view name,
                            std::uint32_t mode, std::uint32_t major, std::uint32_t minor,
                            std::uint32_t gid);
result<std::string> fwd_readlink(const context& cx, foreign_node& f);
result<void> fwd_link(const context& cx, foreign_node& dir, server::node& target,
                      std::string_view name);
result<void> fwd_rename(const context& cx, foreign_node& f, server::node& newdir,
                        std::string_view name);
result<void> fwd_renameat(const context& cx, foreign_node& olddir, std::string_view oldname,
                          server::node& newdir, std::string_view newname);
result<void> fwd_unlinkat(const context& cx, foreign_node& f, std::string_view name,
                          std::uint32_t flags);
result<void> fwd_remove(const context& cx, foreign_node& f);
result<std::uint8_t> fwd_lock(const context& cx, foreign_node& f, const server::lock_request& l);
result<server::lock_request> fwd_getlock(const context& cx, foreign_node& f,
                                         const server::lock_request& l);
result<std::string> fwd_xattr_get(const context& cx, foreign_node& f, std::string_view name);
result<void> fwd_xattr_set(const context& cx, foreign_node& f, std::string_view name,
                           std::span<const std::byte> value, std::uint32_t flags);

}  // namespace ninep::synth::detail
