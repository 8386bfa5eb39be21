// SPDX-License-Identifier: MIT
#pragma once

#include <map>
#include <memory>
#include <ninep/server/filesystem.hpp>
#include <ninep/synth/tree_fs.hpp>
#include <shared_mutex>
#include <string>

/// \file
/// Routes each Tattach by its aname to one of several filesystems.

namespace ninep::synth {

/// A filesystem made of others: an attach whose aname was add()ed goes to that filesystem,
/// any other to the fallback (which sees the aname unchanged, so a local_fs with named
/// exports keeps working). Every later call on a fid goes to the filesystem it was attached
/// from; calls naming fids of two different filesystems (rename, link) fail with EXDEV.
/// Routes may be added while serving.
class aname_mux final : public server::filesystem {
 public:
  /// `fallback` may be null: unknown anames then fail with ENOENT.
  explicit aname_mux(std::shared_ptr<server::filesystem> fallback = nullptr);
  /// Routes `aname` to `fs` (replacing an earlier route).
  void add(std::string aname, std::shared_ptr<server::filesystem> fs);

  result<server::walked> attach(const context& cx) override;
  result<server::walked> walk(const context& cx, server::node& from,
                              std::string_view name) override;
  result<server::node_ptr> clone(const context& cx, const server::node_ptr& n) override;
  std::optional<result<server::attr>> try_getattr(const context& cx, server::node& n,
                                                  std::uint64_t request_mask) override;
  std::optional<result<std::size_t>> try_read(const context& cx, server::node& n,
                                              std::uint64_t offset,
                                              std::span<std::byte> out) override;
  result<server::attr> getattr(const context& cx, server::node& n,
                               std::uint64_t request_mask) override;
  result<void> setattr(const context& cx, server::node& n, const server::set_attr& a) override;
  result<server::opened> open(const context& cx, server::node& n, int flags) override;
  result<server::created> create(const context& cx, server::node& dir, std::string_view name,
                                 int flags, std::uint32_t mode, std::uint32_t gid) override;
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
  result<wire::qid> symlink(const context& cx, server::node& dir, std::string_view name,
                            std::string_view target, std::uint32_t gid) override;
  result<wire::qid> mknod(const context& cx, server::node& dir, std::string_view name,
                          std::uint32_t mode, std::uint32_t major, std::uint32_t minor,
                          std::uint32_t gid) override;
  result<std::string> readlink(const context& cx, server::node& n) override;
  result<void> link(const context& cx, server::node& dir, server::node& target,
                    std::string_view name) override;
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
  result<std::string> xattr_get(const context& cx, server::node& n, std::string_view name) override;
  result<void> xattr_set(const context& cx, server::node& n, std::string_view name,
                         std::span<const std::byte> value, std::uint32_t flags) override;

 private:
  std::shared_ptr<server::filesystem> fallback_;
  mutable std::shared_mutex mu_;
  std::map<std::string, std::shared_ptr<server::filesystem>, std::less<>> routes_;
};

}  // namespace ninep::synth
