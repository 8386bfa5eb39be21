// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <ninep/core/result.hpp>
#include <ninep/server/filesystem.hpp>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

/// \file
/// A backend that serves directories of the host (Linux only).
///
/// Confinement: nothing outside an export's root is ever reached through the 9P operations.
/// Every node holds an O_PATH|O_NOFOLLOW descriptor opened from its parent's descriptor one
/// component at a time (openat2 with RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS where available),
/// or shares that of an earlier walk from the same directory to the same name while that name
/// still refers to its inode (fstatat without following symlinks; clones share too), so that
/// walking one file many times costs one descriptor;
/// walk never follows symlinks; ".." at the root stays at the root and below it is checked to
/// still lead back to the root; every change uses an *at() call on the parent's descriptor with
/// one validated name; I/O reopens the node's own inode through /proc/self/fd/N, so a symlink
/// swapped in after walk cannot redirect it. /proc must be mounted.
///
/// What confinement cannot cover: files the host administrator links or bind-mounts into an
/// export (a hard link to an outside inode *is* that inode), and a directory the host moves out
/// of the export while a client holds a fid on it.
///
/// Special files: the server opens only regular files and directories. Opening (Tlopen, Topen,
/// or Tlcreate/Tcreate of a name that exists) a device node, FIFO or socket fails with ENXIO,
/// checked on the O_PATH descriptor before any open, so a FIFO without a writer never blocks a
/// worker and a device node, whoever made it, never reaches the host device through the server.
/// Clients lose nothing: v9fs handles special files on the client side and never opens them
/// through the server. Tmknod (and 9P2000.u Tcreate with DMDEVICE) of a character or block
/// device fails with EPERM unless local_config::allow_devices; FIFOs and sockets may be made.

namespace ninep::fs {

/// One named export: clients select it with Tattach aname equal to `name`, or to `dir`
/// (as given, or its realpath), as diod does.
struct local_export {
  std::string name;
  std::string dir;
};

/// What local_fs::make() serves.
struct local_config {
  /// The export used when aname is empty; empty: none (an empty aname then fails with
  /// errc::unknown_aname, which clients see as ENOENT).
  std::string default_dir;
  /// Named exports.
  std::vector<local_export> exports;
  /// Every modifying operation fails with EROFS (opening for write or with O_TRUNC too).
  bool read_only = false;
  /// Each operation runs with the filesystem uid, gid and supplementary groups of the
  /// identity the server decided for the attach (server::user; per thread), unless that is the
  /// server's own. Requires the server to run as root. Without it every operation runs as the
  /// server itself (the server then refuses attaches that are someone else).
  bool multiuser = false;
  /// Tmknod may make character and block device nodes (as the attaching user, who also needs
  /// CAP_MKNOD on the host). Unsafe with untrusted clients: a node for the host's disk or
  /// memory, made by a client that is root, is that device for every host process that opens
  /// it. The server itself never opens device nodes either way. Off: EPERM.
  bool allow_devices = false;
};

/// Why local_fs::make() refused a configuration.
struct local_setup_error {
  std::error_code code;
  std::string dir;     ///< the directory at fault; empty when the problem is not one directory
  std::string reason;  ///< what is wrong, e.g. "not a directory"
  /// "<dir>: <reason>", for diagnostics.
  std::string message() const;
};

/// Maps (st_dev, st_ino) to a qid.path that is unique across every device seen by one server.
/// Devices get a small index in first-seen order; path = index << 48 | ino. Inode numbers of
/// 2^48 or more, and devices beyond the 65535th, get a sequential path from a collision-free
/// table in the reserved index 0xffff. Thread-safe.
class inode_map {
 public:
  /// The qid.path of inode `ino` on device `dev`. Throws only std::bad_alloc.
  std::uint64_t path(std::uint64_t dev, std::uint64_t ino);
  /// The index given to `dev` (assigning the next one on first use); 0xffff when the table of
  /// devices is full. Throws only std::bad_alloc.
  std::uint16_t device_index(std::uint64_t dev);

  static constexpr std::uint16_t overflow_index = 0xffff;
  static constexpr unsigned ino_bits = 48;

 private:
  struct pair_hash {
    std::size_t operator()(const std::pair<std::uint64_t, std::uint64_t>& p) const noexcept {
      return std::hash<std::uint64_t>{}(p.first * 0x9e3779b97f4a7c15ULL ^ p.second);
    }
  };
  std::uint16_t device_index_locked(std::uint64_t dev);

  std::mutex mu_;
  std::unordered_map<std::uint64_t, std::uint16_t> devices_;
  std::unordered_map<std::pair<std::uint64_t, std::uint64_t>, std::uint64_t, pair_hash> overflow_;
};

/// Serves host directories. Operations follow the server::filesystem contract; errors are
/// host errno values. Notes per operation:
/// - open(): O_CREAT, O_EXCL, O_NOCTTY, O_ASYNC, O_DIRECT and O_NOFOLLOW are stripped and
///   O_CLOEXEC added; symlinks fail with ELOOP, device nodes, FIFOs and sockets with ENXIO.
///   A node is opened at most once (EBADF after).
/// - create(): without O_EXCL an existing name is opened as by open() (ELOOP, ENXIO, and
///   EISDIR for a directory).
/// - readdir(): cookies are the host's getdents64 d_off values. Entry qids come from the
///   dirent (d_ino, d_type) and the directory's device, without a stat per entry, so an entry
///   that is a mount point shows the covered inode (walk shows the mounted root).
/// - lock()/getlock(): open file description (OFD) locks on the fid's open file: each opened
///   fid is its own lock owner, and its locks go when the fid is clunked. Two fids of one
///   client process therefore conflict, which is stricter than POSIX process locks. lock()
///   never waits: a conflict answers dotl::lock_blocked and the client polls. getlock()
///   reports proc_id 0xffffffff for a conflicting OFD lock (the kernel knows no pid).
/// - remove()/rename(): a node remembers its parent directory and name from walk (updated by
///   rename()); if that name no longer refers to the node's inode, ESTALE.
/// - xattrs: through /proc/self/fd/N, which reaches the node's inode; on a symlink that is
///   the link itself (user.* xattrs are not allowed on symlinks by Linux: EPERM).
/// - create()/mkdir()/symlink()/mknod() with a gid: best effort fchown of the new file; EPERM
///   (not a member of the group) is ignored and the file keeps the group the host gave it.
/// - create()/mkdir()/mknod() modes: the new file gets exactly the permission bits asked for
///   (setuid, setgid and sticky included), whatever the process umask: the client applied its
///   own. After any chown, by chmod, so the kernel's rules hold: setgid only for a member of the
///   file's group (or with CAP_FSETID); a directory keeps a setgid inherited from its parent.
/// - setuid/setgid files belong to whoever made them: the new file is created with the
///   credentials the operation runs with (multiuser: the attaching user's fsuid/fsgid) and is
///   never chowned to another user (apply_gid changes the group only); setattr's chown of a
///   file clears its setuid/setgid, as the kernel does on every chown of a non-directory.
///   Without multiuser everything is made as the server's user.
/// - multiuser: the identity is the server::user's uid, gid and groups as the server decided
///   them. A user with no gid (0xffffffff) is looked up through server::user_db: by uid, else by
///   name (unknown: EPERM); a numeric uid without an entry gets group 65534 and no
///   supplementary groups.
class local_fs final : public server::filesystem {
 public:
  /// Opens every export's directory; fails naming the first one that is missing, not a
  /// directory or not openable, on duplicate or empty export names, on multiuser without root,
  /// and when /proc/self/fd is unusable. Throws only std::bad_alloc.
  static tl::expected<std::unique_ptr<local_fs>, local_setup_error> make(const local_config& c);

  ~local_fs() override;
  local_fs(const local_fs&) = delete;
  local_fs& operator=(const local_fs&) = delete;

  result<server::walked> attach(const server::context& cx) override;
  result<server::walked> walk(const server::context& cx, server::node& from,
                              std::string_view name) override;
  result<server::node_ptr> clone(const server::context& cx, const server::node_ptr& n) override;
  std::optional<result<std::size_t>> try_read(const server::context& cx, server::node& n,
                                              std::uint64_t offset,
                                              std::span<std::byte> out) override;
  std::optional<result<server::attr>> try_getattr(const server::context& cx, server::node& n,
                                                  std::uint64_t request_mask) override;
  result<server::attr> getattr(const server::context& cx, server::node& n,
                               std::uint64_t request_mask) override;
  result<void> setattr(const server::context& cx, server::node& n,
                       const server::set_attr& a) override;
  result<server::opened> open(const server::context& cx, server::node& n, int flags) override;
  result<server::created> create(const server::context& cx, server::node& dir,
                                 std::string_view name, int flags, std::uint32_t mode,
                                 std::uint32_t gid) override;
  result<std::size_t> read(const server::context& cx, server::node& n, std::uint64_t offset,
                           std::span<std::byte> out) override;
  result<std::size_t> write(const server::context& cx, server::node& n, std::uint64_t offset,
                            std::span<const std::byte> in) override;
  result<void> readdir(const server::context& cx, server::node& n, std::uint64_t cookie,
                       server::dirent_sink& out) override;
  result<void> fsync(const server::context& cx, server::node& n, bool datasync) override;
  result<server::fs_stat> statfs(const server::context& cx, server::node& n) override;
  result<wire::qid> mkdir(const server::context& cx, server::node& dir, std::string_view name,
                          std::uint32_t mode, std::uint32_t gid) override;
  result<wire::qid> symlink(const server::context& cx, server::node& dir, std::string_view name,
                            std::string_view target, std::uint32_t gid) override;
  result<wire::qid> mknod(const server::context& cx, server::node& dir, std::string_view name,
                          std::uint32_t mode, std::uint32_t major, std::uint32_t minor,
                          std::uint32_t gid) override;
  result<std::string> readlink(const server::context& cx, server::node& n) override;
  result<void> link(const server::context& cx, server::node& dir, server::node& target,
                    std::string_view name) override;
  result<void> rename(const server::context& cx, server::node& n, server::node& newdir,
                      std::string_view name) override;
  result<void> renameat(const server::context& cx, server::node& olddir, std::string_view oldname,
                        server::node& newdir, std::string_view newname) override;
  result<void> unlinkat(const server::context& cx, server::node& dir, std::string_view name,
                        std::uint32_t flags) override;
  result<void> remove(const server::context& cx, server::node& n) override;
  result<std::uint8_t> lock(const server::context& cx, server::node& n,
                            const server::lock_request& l) override;
  result<server::lock_request> getlock(const server::context& cx, server::node& n,
                                       const server::lock_request& l) override;
  result<std::string> xattr_get(const server::context& cx, server::node& n,
                                std::string_view name) override;
  result<void> xattr_set(const server::context& cx, server::node& n, std::string_view name,
                         std::span<const std::byte> value, std::uint32_t flags) override;

  /// The qid.path mapping shared by every export of this server.
  inode_map& inodes() noexcept { return *inodes_; }

 private:
  struct state;
  explicit local_fs(std::unique_ptr<state> s);
  std::unique_ptr<state> s_;
  inode_map* inodes_;
};

}  // namespace ninep::fs
