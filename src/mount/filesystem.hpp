// SPDX-License-Identifier: MIT
#pragma once

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <ninep/client/session.hpp>
#include <ninep/mount/mount.hpp>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ninep::mount {

/// The FUSE low-level operations over one 9P session. Each FUSE callback copies what it needs
/// and starts a coroutine on the I/O context, which replies when its 9P requests are answered:
/// FUSE threads never block on the network, and any number of requests are in flight.
///
/// Inodes: one per qid.path seen, named by the parent inode and the name it was last found by
/// (so a rename moves whole subtrees at once). Each holds at most one fid, walked when first
/// needed and clunked when the kernel forgets the inode. The table is guarded by one mutex,
/// never held across a co_await.
class filesystem {
 public:
  filesystem(asio::io_context& io, std::shared_ptr<client::session> s, const options& o,
             const client::attr& root);
  ~filesystem();
  filesystem(const filesystem&) = delete;
  filesystem& operator=(const filesystem&) = delete;

  /// The operations table; fuse_req_userdata() must be the filesystem.
  static const fuse_lowlevel_ops& operations();
  /// The size of FUSE reads and writes (max_read, max_write) for a session.
  static std::uint32_t io_size(const client::session& s);
  /// Stops redialling (called before the I/O context stops).
  void stop() { stopping_ = true; }
  /// The session in use now (after reconnects, not the one given to the constructor).
  std::shared_ptr<client::session> session() const { return sess(); }

 private:
  struct inode {
    fuse_ino_t parent = 0;
    std::string name;
    std::uint64_t qid_path = 0;
    std::uint32_t type = 0;  ///< st_mode & S_IFMT
    std::uint64_t nlookup = 0;
    std::shared_ptr<client::file> fid;  ///< walked lazily; null until needed
    std::uint32_t seen_version = 0;     ///< qid.version at the last open (0: none)
    std::uint64_t size = 0;             ///< as last seen
    /// A fid of an open file of this inode: what getattr uses once no path leads to it
    /// (unlinked while open), and of which connection generation.
    std::weak_ptr<client::file> any_open;
    std::uint64_t any_open_gen = 0;
  };
  struct open_file;
  struct dir_handle;
  struct scope;
  friend struct ops_impl;

  using file_ptr = std::shared_ptr<client::file>;
  template <class T>
  using task = asio::awaitable<T>;

  void spawn(fuse_req_t req, task<void> t);

  // The inode table (mutex held inside each).
  std::string path_of_locked(fuse_ino_t ino, int& err) const;
  client::outcome<std::string> path_of(fuse_ino_t ino) const;
  client::outcome<std::string> child_path(fuse_ino_t parent, std::string_view name) const;
  fuse_entry_param remember(fuse_ino_t parent, std::string_view name, const client::attr& a,
                            file_ptr f, std::uint64_t fid_gen = 0);
  void forget_one(fuse_ino_t ino, std::uint64_t n);
  void noted_size(fuse_ino_t ino, std::uint64_t size);
  void note_open(fuse_ino_t ino, const file_ptr& f, std::uint64_t gen);
  void drop_name(fuse_ino_t parent, const std::string& name);
  void moved(fuse_ino_t parent, const std::string& name, fuse_ino_t newparent,
             const std::string& newname);
  struct stat to_stat(const client::attr& a) const;
  double attr_timeout() const { return o_.cache_none ? 0.0 : o_.attr_timeout; }
  double entry_timeout() const { return o_.cache_none ? 0.0 : o_.entry_timeout; }
  bool dotl() const { return dialect_ == wire::dialect::v2000L; }

  // Requests and reconnection.
  std::shared_ptr<client::session> sess() const;
  /// The session and its generation, read together.
  std::pair<std::shared_ptr<client::session>, std::uint64_t> conn() const;
  /// Runs `body` for `req` until it replies; a body that fails returns the error instead, which
  /// serve() replies with, after a reconnect and a second try when the connection was lost
  /// and the request is `idempotent` or was not sent yet.
  template <class Body>
  task<void> serve(fuse_req_t req, bool idempotent, Body body);
  /// Waits until the connection of generation `gen` has been replaced (true), or `deadline`,
  /// an interrupt or unmounting (false); starts the redial if nobody has.
  task<bool> reconnected(std::uint64_t gen, std::chrono::steady_clock::time_point deadline,
                         scope& sc);
  task<void> reconnect();
  /// The fid of an open file, re-opened if its connection was lost since.
  task<client::outcome<file_ptr>> file_of(const std::shared_ptr<open_file>& h, scope& sc);

  // 9P helpers.
  task<client::outcome<file_ptr>> fid_of(fuse_ino_t ino, const client::call_options& co);
  task<client::outcome<client::file>> blank_fid(const client::call_options& co);
  void give_blank(client::file f, std::uint64_t gen);
  task<client::outcome<void>> clunk_raw(client::file f, std::uint64_t gen,
                                        const client::call_options& co);
  task<client::error> entry_reply(scope& sc, fuse_req_t req, fuse_ino_t parent, std::string name);

  // The operations, one coroutine each: each replies and yields no error, or yields the error
  // without replying (serve() does). ops_impl has the FUSE-facing shims.
  using op = task<client::error>;
  op lookup(scope& sc, fuse_req_t req, fuse_ino_t parent, std::string name);
  op getattr(scope& sc, fuse_req_t req, fuse_ino_t ino, std::shared_ptr<open_file> h);
  op setattr(scope& sc, fuse_req_t req, fuse_ino_t ino, struct stat st, int to_set,
             std::shared_ptr<open_file> h);
  op readlink(scope& sc, fuse_req_t req, fuse_ino_t ino);
  op mknod(scope& sc, fuse_req_t req, fuse_ino_t parent, std::string name, mode_t mode, dev_t rdev);
  op mkdir(scope& sc, fuse_req_t req, fuse_ino_t parent, std::string name, mode_t mode);
  op remove(scope& sc, fuse_req_t req, fuse_ino_t parent, std::string name, bool dir);
  op symlink(scope& sc, fuse_req_t req, std::string target, fuse_ino_t parent, std::string name);
  op rename(scope& sc, fuse_req_t req, fuse_ino_t parent, std::string name, fuse_ino_t newparent,
            std::string newname, unsigned flags);
  op link(scope& sc, fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, std::string newname);
  op open(scope& sc, fuse_req_t req, fuse_ino_t ino, fuse_file_info fi);
  op create(scope& sc, fuse_req_t req, fuse_ino_t parent, std::string name, mode_t mode,
            fuse_file_info fi);
  op read(scope& sc, fuse_req_t req, std::shared_ptr<open_file> h, std::size_t size, off_t off);
  op write(scope& sc, fuse_req_t req, std::shared_ptr<open_file> h, std::vector<std::byte> data,
           off_t off);
  op flush(scope& sc, fuse_req_t req, std::shared_ptr<open_file> h, std::uint64_t owner);
  op fsync(scope& sc, fuse_req_t req, std::shared_ptr<open_file> h, int datasync);
  op readdir(scope& sc, fuse_req_t req, fuse_ino_t ino, std::shared_ptr<dir_handle> d,
             std::size_t size, off_t off, bool plus);
  op statfs(scope& sc, fuse_req_t req, fuse_ino_t ino);
  op setxattr(scope& sc, fuse_req_t req, fuse_ino_t ino, std::string name, std::vector<std::byte> v,
              int flags);
  op getxattr(scope& sc, fuse_req_t req, fuse_ino_t ino, std::string name, std::size_t size,
              bool list);
  op getlk(scope& sc, fuse_req_t req, std::shared_ptr<open_file> h, struct flock lk,
           std::uint64_t owner);
  op setlk(scope& sc, fuse_req_t req, std::shared_ptr<open_file> h, struct flock lk,
           std::uint64_t owner, bool wait);

  asio::io_context& io_;
  std::shared_ptr<client::session> s_;  ///< guarded by mu_; replaced by reconnect()
  const wire::dialect dialect_;         ///< fixed: reconnects insist on it
  options o_;
  std::string client_id_;  ///< Tlock client_id: this host's name

  mutable std::mutex mu_;
  std::unordered_map<fuse_ino_t, inode> inodes_;
  std::unordered_map<std::uint64_t, fuse_ino_t> by_qid_;
  std::map<std::pair<fuse_ino_t, std::string>, fuse_ino_t, std::less<>> names_;
  fuse_ino_t next_ino_ = FUSE_ROOT_ID + 1;
  std::vector<client::file> blanks_;   ///< fid numbers the session holds for us, unbound
  std::atomic<std::uint64_t> gen_{0};  ///< bumped by each reconnect
  std::atomic<bool> reconnecting_{false};
  std::atomic<bool> stopping_{false};
  std::uint64_t reconnects_ = 0;  ///< guarded by mu_
  /// The handles given to FUSE as fi->fh (open files, directories), each with its deleter:
  /// freed by release/releasedir, and the rest at unmount, whose RELEASEs may never come.
  std::mutex handles_mu_;
  std::unordered_map<std::uint64_t, void (*)(std::uint64_t)> handles_;
  template <class T>
  std::uint64_t keep_handle(std::shared_ptr<T> h);
  void drop_handle(std::uint64_t fh);
};

}  // namespace ninep::mount
