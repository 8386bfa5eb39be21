// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <ninep/core/result.hpp>
#include <ninep/wire/types.hpp>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

/// \file
/// The interface between the 9P server and a file tree (a backend). Backends see typed
/// operations on their own node objects: never tags, fids or wire buffers. The server has done
/// every protocol check before a backend call: the fid exists, it is open (or not) as the
/// operation needs, names are single path elements (no '/', not "" or "." or ".." except in
/// walk), counts fit the reply, and the nodes of a two-node operation (link, rename,
/// renameat) are both this filesystem's (the server answers EXDEV itself otherwise).
///
/// A filesystem may show others inside it (mount points) or stand for several (routing by
/// aname): attach and walk then return the other filesystem in walked::fs, and the server
/// calls that one for the fid from then on. Nothing forwards calls by hand.
///
/// Threading: the server calls a backend from worker threads, never from the network loop, so
/// a call may block. Calls on different nodes may run concurrently; calls on the same node may
/// too (a client may send two reads on one fid), so a node guards its own mutable state.
///
/// Errors: return errno values as std::error_code in the generic category (errno_code(ENOENT));
/// the server turns them into the reply of the connection's dialect. Every operation a backend
/// does not override answers EOPNOTSUPP.

namespace ninep::server {

/// Who is making a request: the identity the server decided for the attach the fid descends
/// from (never simply the name the client sent; see docs/man/ninep-serve.md, SECURITY).
/// The server fills every field. A backend that acts on the host acts as exactly this identity.
struct user {
  std::string name;                 ///< the user's name (from the host's database when known)
  std::uint32_t uid = wire::no_id;  ///< no_id with an empty name: the server's own identity
  std::string aname;                ///< aname of Tattach
  /// Primary group; no_id: not resolved (a backend looks uid or name up itself).
  std::uint32_t gid = wire::no_id;
  std::vector<std::uint32_t> groups{};  ///< supplementary groups (with gid among them)
};

/// Passed to every backend call.
struct context {
  const server::user& user;
  /// Requested to stop when the client flushes the request or the server shuts down; a call
  /// that waits (a blocking read, a lock) should give up with ECANCELED/EINTR when it is.
  std::stop_token stop;
};

/// A backend's object for one file, held by every fid that refers to it. The server keeps it
/// alive while any fid or request refers to it; its destructor is the clunk.
class node {
 public:
  virtual ~node() = default;
};
using node_ptr = std::shared_ptr<node>;

/// Attributes, as Rgetattr carries them. `valid` says which fields are filled (dotl::getattr_*).
struct attr {
  std::uint64_t valid = 0;
  wire::qid qid;
  std::uint32_t mode = 0;  ///< S_IF* | permission bits
  std::uint32_t uid = 0, gid = 0;
  std::uint64_t nlink = 0, rdev = 0, size = 0, blksize = 0, blocks = 0;
  std::uint64_t atime_sec = 0, atime_nsec = 0, mtime_sec = 0, mtime_nsec = 0;
  std::uint64_t ctime_sec = 0, ctime_nsec = 0, btime_sec = 0, btime_nsec = 0;
  std::uint64_t gen = 0, data_version = 0;
};

/// What Tsetattr asks to change; `valid` holds dotl::setattr_* bits. ATIME/MTIME without the
/// matching *_SET bit mean "now"; with it, the given seconds and nanoseconds.
struct set_attr {
  std::uint32_t valid = 0;
  std::uint32_t mode = 0, uid = 0, gid = 0;
  std::uint64_t size = 0;
  std::uint64_t atime_sec = 0, atime_nsec = 0, mtime_sec = 0, mtime_nsec = 0;
};

/// Rstatfs fields.
struct fs_stat {
  std::uint32_t type = 0, bsize = 0;
  std::uint64_t blocks = 0, bfree = 0, bavail = 0, files = 0, ffree = 0, fsid = 0;
  std::uint32_t namelen = 0;
};

class filesystem;

/// A node reached by walk or attach, with its qid.
struct walked {
  node_ptr node;
  wire::qid qid;
  /// Set when `node` belongs to another filesystem than the one called: a mount point that
  /// walk stepped onto (synth::mount_point), or the filesystem an attach was routed to
  /// (server::router). `node` and `qid` are then `fs`'s own, and the server calls every later
  /// operation on the fid, and on fids walked from it, on `fs`. Null: the node is the called
  /// filesystem's. The server answers ".." from the root of a mount point with the directory
  /// holding it, and a request naming fids of two filesystems with EXDEV.
  std::shared_ptr<filesystem> fs = nullptr;
  /// With `fs`: XORed into qid.path of every qid `fs` returns (this `qid` included), so that
  /// paths from a mounted filesystem do not collide with the mounting tree's. Best effort;
  /// 0: none.
  std::uint64_t qid_salt = 0;
};

/// The result of open/create: the qid and the iounit (0: use msize).
struct opened {
  wire::qid qid;
  std::uint32_t iounit = 0;
};

/// A node created and opened by create(): it replaces the directory node in the fid.
struct created {
  node_ptr node;
  wire::qid qid;
  std::uint32_t iounit = 0;
};

/// A POSIX byte-range lock request or answer (Tlock/Tgetlock/Rgetlock).
struct lock_request {
  std::uint8_t type = 0;  ///< dotl::lock_type_*
  std::uint32_t flags = 0;
  std::uint64_t start = 0, length = 0;  ///< length 0: to end of file
  std::uint32_t proc_id = 0;
  std::string client_id;
};

/// Receives directory entries from readdir(). add() returns false when the entry did not fit;
/// the backend then stops, and the client resumes later from that entry's cookie.
class dirent_sink {
 public:
  /// `next` is the cookie that resumes the listing after this entry.
  virtual bool add(const wire::qid& qid, std::uint64_t next, std::uint8_t dt_type,
                   std::string_view name) = 0;

 protected:
  ~dirent_sink() = default;
};

/// Completion of filesystem::async_read: bytes read, or the error.
using read_callback = std::function<void(result<std::size_t>)>;

/// A file tree served over 9P. See the file comment for threading and errors.
class filesystem {
 public:
  virtual ~filesystem() = default;

  /// Tattach: the root of the tree named by `cx.user.aname`; walked::fs set when another
  /// filesystem serves it. Errors: ENOENT (no such export).
  virtual result<walked> attach(const context& cx) = 0;
  /// One step of Twalk from directory `from`. `name` may be ".."; at the root it stays at the
  /// root. Never follows a symlink. walked::fs is set when the step lands on another
  /// filesystem (a mount point). Errors: ENOENT, ENOTDIR, EACCES.
  virtual result<walked> walk(const context& cx, node& from, std::string_view name) = 0;
  /// Twalk with no names: a second reference to the same file. Default: shares `n`'s node.
  virtual result<node_ptr> clone(const context& cx, const node_ptr& n);

  /// Tgetattr (and the stat of 9P2000/.u): `request_mask` holds dotl::getattr_* bits; fill at
  /// least those that can be known and set attr::valid to what was filled.
  virtual result<attr> getattr(const context& cx, node& n, std::uint64_t request_mask);
  /// Tsetattr (and Twstat): changes what `a.valid` names; stops at the first change that fails.
  /// Errors: EPERM, EACCES, EROFS, EINVAL.
  virtual result<void> setattr(const context& cx, node& n, const set_attr& a);
  /// Opens `n` with host open(2) flags (the server translated them from the wire).
  virtual result<opened> open(const context& cx, node& n, int flags);
  /// Creates and opens `name` in directory `dir` (host flags; O_CREAT is implied).
  virtual result<created> create(const context& cx, node& dir, std::string_view name, int flags,
                                 std::uint32_t mode, std::uint32_t gid);
  /// Reads from open file `n` at `offset` into `out`; returns bytes read, 0 at end of file.
  virtual result<std::size_t> read(const context& cx, node& n, std::uint64_t offset,
                                   std::span<std::byte> out);
  /// Reads like read(), but may complete later, from any thread: for files whose data arrives
  /// when it arrives (event files, live feeds), so a waiting reader holds no thread. `done` is
  /// called exactly once, possibly before this returns; `out` stays valid until then. A waiting
  /// read must end with ECANCELED once cx.stop is requested (Tflush); keep a copy of the token,
  /// `cx` itself is valid only during the call. Default: done(read(...)).
  virtual void async_read(const context& cx, node& n, std::uint64_t offset,
                          std::span<std::byte> out, read_callback done);
  /// Writes `in` at `offset` into open file `n`; returns bytes written.
  virtual result<std::size_t> write(const context& cx, node& n, std::uint64_t offset,
                                    std::span<const std::byte> in);
  /// Lists open directory `n` from `cookie` (0: the start) into `out` until it is full or the
  /// listing ends. Entries "." and ".." may be included.
  virtual result<void> readdir(const context& cx, node& n, std::uint64_t cookie, dirent_sink& out);
  /// Tfsync on open file `n`: its data (and, unless `datasync`, metadata) reaches stable storage
  /// before the reply.
  virtual result<void> fsync(const context& cx, node& n, bool datasync);
  /// Tstatfs: the file system holding `n`.
  virtual result<fs_stat> statfs(const context& cx, node& n);
  /// Tmkdir: a directory `name` in `dir` with permission bits `mode`, group `gid` where it can be
  /// honoured. Returns the new directory's qid. Errors: EEXIST, EACCES, ENOSPC, EROFS.
  virtual result<wire::qid> mkdir(const context& cx, node& dir, std::string_view name,
                                  std::uint32_t mode, std::uint32_t gid);
  /// Tsymlink: a symbolic link `name` in `dir` pointing at `target` (stored, never followed).
  virtual result<wire::qid> symlink(const context& cx, node& dir, std::string_view name,
                                    std::string_view target, std::uint32_t gid);
  /// Tmknod: a special file `name` in `dir`; `mode` holds S_IF* and permission bits, `major`
  /// and `minor` the device number for S_IFCHR/S_IFBLK.
  virtual result<wire::qid> mknod(const context& cx, node& dir, std::string_view name,
                                  std::uint32_t mode, std::uint32_t major, std::uint32_t minor,
                                  std::uint32_t gid);
  /// Treadlink: the target of symlink `n`. Errors: EINVAL (not a symlink).
  virtual result<std::string> readlink(const context& cx, node& n);
  /// Tlink: hard link `name` in `dir` to `target`.
  virtual result<void> link(const context& cx, node& dir, node& target, std::string_view name);
  /// Trename: moves `n` into `newdir` as `name`.
  virtual result<void> rename(const context& cx, node& n, node& newdir, std::string_view name);
  /// Trenameat: moves `oldname` of `olddir` to `newname` of `newdir`, replacing a file there as
  /// rename(2) does.
  virtual result<void> renameat(const context& cx, node& olddir, std::string_view oldname,
                                node& newdir, std::string_view newname);
  /// Tunlinkat: flags may hold dotl::at_removedir.
  virtual result<void> unlinkat(const context& cx, node& dir, std::string_view name,
                                std::uint32_t flags);
  /// Tremove: removes the file `n` refers to (the fid is clunked by the server either way).
  virtual result<void> remove(const context& cx, node& n);
  /// Tlock: returns dotl::lock_success or dotl::lock_blocked (never waits).
  virtual result<std::uint8_t> lock(const context& cx, node& n, const lock_request& l);
  /// Tgetlock: the first lock that would conflict with `l`, or `l` with type unlck.
  virtual result<lock_request> getlock(const context& cx, node& n, const lock_request& l);
  /// The value of extended attribute `name`, or with an empty name the NUL-separated list.
  virtual result<std::string> xattr_get(const context& cx, node& n, std::string_view name);
  /// Sets (flags dotl::xattr_create/replace) or, with an empty value after a zero-size
  /// Txattrcreate, removes extended attribute `name`, whatever the flags: the Linux kernel's
  /// removexattr sends flags XATTR_REPLACE, and QEMU and diod remove on any zero size.
  virtual result<void> xattr_set(const context& cx, node& n, std::string_view name,
                                 std::span<const std::byte> value, std::uint32_t flags);
  /// Fast paths, called on the network thread itself to save two thread hops per request.
  /// They must never wait (no disk I/O, no network file system round trip, no contended
  /// locks): return std::nullopt whenever that cannot be promised, and the server calls the
  /// ordinary operation on a worker instead. Defaults: always std::nullopt.
  /// try_read: like read(), e.g. preadv2(RWF_NOWAIT) served from the page cache.
  virtual std::optional<result<std::size_t>> try_read(const context& cx, node& n,
                                                      std::uint64_t offset,
                                                      std::span<std::byte> out);
  /// try_getattr: like getattr(), when attributes are known without waiting.
  virtual std::optional<result<attr>> try_getattr(const context& cx, node& n,
                                                  std::uint64_t request_mask);
};

}  // namespace ninep::server
