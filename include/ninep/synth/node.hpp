// SPDX-License-Identifier: MIT
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <ninep/core/result.hpp>
#include <ninep/server/filesystem.hpp>
#include <ninep/wire/types.hpp>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

/// \file
/// The tree of a synthetic file server: directories and files built in code, served by
/// synth::tree_fs (tree_fs.hpp). An entry supplies only what is special about it (its bytes,
/// what a write does); walking, listing, qids, attributes, open modes and permission checks
/// are the framework's.
///
/// Entries are shared (std::shared_ptr) and may be changed while being served: every member
/// function is thread-safe unless it says otherwise. An entry is in at most one directory.
///
/// Open files: every fid gets its own node object from tree_fs, and opening it asks the file
/// for a synth::handle, the per-open state. The handle lives until the fid is clunked (its
/// destructor is the clunk), so state such as a snapshot of generated content or a stream
/// cursor belongs in the handle.

namespace ninep::synth {

using server::context;

/// Completion of an asynchronous read: the bytes read (0 at end of file) or an errno code.
/// Called exactly once, on any thread, possibly before the call that started the read returns.
using read_callback = server::read_callback;

class dir;

/// A file or directory of the tree. Its qid.path is unique in the process for its lifetime;
/// qid.version changes whenever its content or attributes change (touch()).
class entry : public std::enable_shared_from_this<entry> {
 public:
  /// `mode` holds S_IFDIR or S_IFREG and the permission bits. Owner root, times now.
  explicit entry(std::uint32_t mode);
  virtual ~entry() = default;
  entry(const entry&) = delete;
  entry& operator=(const entry&) = delete;

  /// The qid.path: assigned at construction, never reused while the process runs.
  std::uint64_t id() const noexcept { return id_; }
  /// The current qid (type from the mode, version from the change count).
  wire::qid qid() const noexcept;
  bool is_dir() const noexcept;
  /// S_IF* | permission bits.
  std::uint32_t mode() const;
  std::uint32_t uid() const;
  std::uint32_t gid() const;
  /// Sets the permission bits (07777), keeping the file type; bumps the version.
  void set_perm(std::uint32_t perm);
  /// Sets owner and group; bumps the version.
  void set_owner(std::uint32_t uid, std::uint32_t gid);
  /// Modification and access times (seconds, nanoseconds since the epoch).
  std::pair<std::uint64_t, std::uint64_t> mtime() const;
  std::pair<std::uint64_t, std::uint64_t> atime() const;
  void set_mtime(std::uint64_t sec, std::uint64_t nsec);
  void set_atime(std::uint64_t sec, std::uint64_t nsec);
  /// Records a change: bumps qid.version and sets mtime to now.
  void touch();
  /// The name in its directory ("" while in none).
  std::string name() const;
  /// The directory holding this entry; null while in none (or for a root).
  std::shared_ptr<dir> parent() const;
  /// Size reported by getattr/stat. Default 0 (like /proc: generated content has no size).
  virtual std::uint64_t size() const { return 0; }

 private:
  friend class dir;
  const std::uint64_t id_;
  std::atomic<std::uint32_t> version_{0};
  mutable std::mutex mu_;  // guards everything below
  std::uint32_t mode_;
  std::uint32_t uid_ = 0, gid_ = 0;
  std::uint64_t mtime_sec_ = 0, mtime_nsec_ = 0, atime_sec_ = 0, atime_nsec_ = 0;
  std::string name_;
  std::weak_ptr<dir> parent_;
};

/// Per-open state of a file, made by file::open() and destroyed when the fid is clunked.
/// Calls on one handle may run concurrently (two reads on one fid): guard mutable state.
class handle {
 public:
  virtual ~handle() = default;
  /// Reads at `offset` into `out`; 0 at end of file. Default: EOPNOTSUPP.
  virtual result<std::size_t> read(const context& cx, std::uint64_t offset,
                                   std::span<std::byte> out);
  /// Writes `in` at `offset`; returns bytes taken. Default: EOPNOTSUPP.
  virtual result<std::size_t> write(const context& cx, std::uint64_t offset,
                                    std::span<const std::byte> in);
  /// Starts a read that may wait for data without holding a thread: `done` is called once,
  /// later, from whichever thread provides the data or cancels (cx.stop). `out` must stay
  /// valid until then; `cx` only for the call (its stop token is copied).
  /// Default: completes at once with read().
  virtual void async_read(const context& cx, std::uint64_t offset, std::span<std::byte> out,
                          read_callback done);
};

/// A regular file. Override what the file does; the permission bits (constructor) say which
/// accesses the framework lets through to it: a file without write bits is never written,
/// even by root.
class file : public entry {
 public:
  explicit file(std::uint32_t perm = 0444);

  /// Called when a fid opens the file (after permission checks); returns the per-open state.
  /// `flags` are host open(2) flags. Default: a handle calling this file's read() and write().
  virtual result<std::unique_ptr<handle>> open(const context& cx, int flags);
  /// Default: EOPNOTSUPP.
  virtual result<std::size_t> read(const context& cx, std::uint64_t offset,
                                   std::span<std::byte> out);
  /// Default: EOPNOTSUPP.
  virtual result<std::size_t> write(const context& cx, std::uint64_t offset,
                                    std::span<const std::byte> in);
  /// O_TRUNC, Tsetattr size, Twstat length (after a write permission check). Default: size 0
  /// is accepted and ignored (as sysfs does, so `echo x > ctl` works); others EOPNOTSUPP.
  virtual result<void> truncate(const context& cx, std::uint64_t size);
};

/// A directory: named entries kept in name order. Programs change it with add() and
/// remove(); clients may create, remove and rename in it only when it is client_writable().
class dir : public entry {
 public:
  explicit dir(std::uint32_t perm = 0555);
  /// A directory clients can change (create, mkdir, unlink, rename), as a ramfs needs.
  static std::shared_ptr<dir> make_writable(std::uint32_t perm = 0755);

  /// Adds `e` as `name`. Errors: EEXIST; EINVAL when `name` is not one path element or `e`
  /// is already in a directory.
  result<void> add(std::string_view name, std::shared_ptr<entry> e);
  /// The directory `name`, created (mode `perm`) when missing. Errors: as add(); ENOTDIR.
  result<std::shared_ptr<dir>> subdir(std::string_view name, std::uint32_t perm = 0555);
  /// Removes `name` (a directory with everything under it). Errors: ENOENT.
  result<void> remove(std::string_view name);
  /// The entry `name`, or null.
  std::shared_ptr<entry> find(std::string_view name) const;
  /// A snapshot of the entries in name order.
  std::vector<std::pair<std::string, std::shared_ptr<entry>>> list() const;
  std::size_t count() const;

  bool client_writable() const noexcept { return writable_.load(); }
  void set_client_writable(bool w) noexcept { writable_ = w; }

  /// A new file for a client's create in this directory (called only when client_writable()).
  /// Default: an in-memory writable file (synth::writable_file). The framework sets owner and
  /// mode and adds it.
  virtual result<std::shared_ptr<file>> make_file(const context& cx, std::string_view name);
  /// A new directory for a client's mkdir. Default: a client_writable dir.
  virtual result<std::shared_ptr<dir>> make_dir(const context& cx, std::string_view name);

  /// Moves `from_name` in `from` to `to_name` in `to`, replacing a file or an empty directory
  /// of the same kind there. Errors: ENOENT, EEXIST/ENOTEMPTY (non-empty directory target),
  /// EISDIR/ENOTDIR (kinds differ), EINVAL (a directory into itself).
  static result<void> rename(dir& from, std::string_view from_name, dir& to,
                             std::string_view to_name);

 private:
  mutable std::mutex children_mu_;
  std::map<std::string, std::shared_ptr<entry>, std::less<>> children_;
  std::atomic<bool> writable_{false};
};

}  // namespace ninep::synth
