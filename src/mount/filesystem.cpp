// SPDX-License-Identifier: MIT
#include "filesystem.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ninep/core/error.hpp>
#include <ninep/transport/address.hpp>
#include <ninep/wire/dotl.hpp>
#include <ninep/wire/stat.hpp>
#include <stop_token>
#include <utility>

namespace ninep::mount {
namespace {

namespace dotl = wire::dotl;

/// The errno a FUSE request fails with for a client error: the server's errno as it is, EINTR
/// for a request the caller interrupted (flushed), EIO for a lost connection or a server that
/// broke the protocol.
int errno_of(const client::error& e) {
  if (e == errc::cancelled) return EINTR;
  if (e.code.category() == std::generic_category() && e.code.value() > 0) return e.code.value();
  return EIO;
}

/// Host open(2) flags as 9P2000.L wire flags (the wire has Linux-generic values; the host's
/// can differ, as on arm64). O_CREAT, O_EXCL and O_NOCTTY are the kernel's business here.
std::uint32_t dotl_flags(int f) {
  std::uint32_t out = static_cast<std::uint32_t>(f & O_ACCMODE);
  const std::pair<int, std::uint32_t> table[] = {
      {O_TRUNC, dotl::trunc},       {O_APPEND, dotl::append},   {O_NONBLOCK, dotl::nonblock},
      {O_DSYNC, dotl::dsync},       {O_DIRECT, dotl::direct},   {O_DIRECTORY, dotl::directory},
      {O_NOFOLLOW, dotl::nofollow}, {O_NOATIME, dotl::noatime}, {O_SYNC & ~O_DSYNC, dotl::sync},
  };
  for (auto [host, wire_bit] : table)
    if (host != 0 && (f & host) == host) out |= wire_bit;
  return out;
}

/// A lock type of fcntl(2) on the 9P2000.L wire, and back.
std::uint8_t wire_lock_type(short t) {
  return t == F_RDLCK   ? dotl::lock_type_rdlck
         : t == F_WRLCK ? dotl::lock_type_wrlck
                        : dotl::lock_type_unlck;
}
short host_lock_type(std::uint8_t t) {
  return t == dotl::lock_type_rdlck ? F_RDLCK : t == dotl::lock_type_wrlck ? F_WRLCK : F_UNLCK;
}

/// A 9P lock length for an fcntl l_len: 0 means "to the end" on both sides.
std::uint64_t wire_lock_length(const struct flock& lk) {
  return lk.l_len <= 0 ? 0 : static_cast<std::uint64_t>(lk.l_len);
}

template <class R>
const R* as(const client::reply& r) {
  return std::get_if<R>(&r.msg.body);
}

// How often a blocked setlkw asks again (the kernel's v9fs polls the same way).
constexpr auto lock_poll = std::chrono::milliseconds(100);
// The largest extended attribute Linux has (XATTR_SIZE_MAX) and listing (XATTR_LIST_MAX).
constexpr std::uint64_t xattr_max = 65536;

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

}  // namespace

/// An open file: its own fid, opened with the open(2) flags.
struct filesystem::open_file {
  file_ptr f;  ///< guarded by filesystem::mu_ (replaced when re-opened after a reconnect)
  fuse_ino_t ino = 0;
  std::uint32_t flags = 0;          ///< the 9P2000.L open flags, to re-open with
  std::uint64_t gen = 0;            ///< the connection `f` belongs to
  std::atomic<bool> locked{false};  ///< a lock was ever taken through it (flush releases)
};

/// An open directory: its listing, read whole at the first readdir (and again on rewind), so
/// that FUSE's offsets are indexes into it and stay valid for the life of the handle.
struct filesystem::dir_handle {
  bool loaded = false;
  std::vector<client::dir_entry> entries;
};

/// One FUSE request's 9P calls: the call options carry a stop token that FUSE's interrupt
/// fires, which flushes whatever 9P request is in flight. Lives in the coroutine frame and is
/// destroyed only after the reply, after which libfuse never calls the interrupt function.
struct filesystem::scope {
  explicit scope(fuse_req_t r) {
    co.stop = stop.get_token();
    fuse_req_interrupt_func(r, &scope::interrupted, this);
  }
  scope(const scope&) = delete;
  scope& operator=(const scope&) = delete;
  static void interrupted(fuse_req_t, void* self) {
    static_cast<scope*>(self)->stop.request_stop();
  }
  std::stop_source stop;
  client::call_options co;
  /// Set just before a request that changes the server is sent: such a request is not sent
  /// again after a reconnect, as it may have been carried out.
  bool sent = false;
};

filesystem::filesystem(asio::io_context& io, std::shared_ptr<client::session> s, const options& o,
                       const client::attr& root)
    : io_(io), s_(std::move(s)), dialect_(s_->dialect()), o_(o), client_id_(host_name()) {
  inode& r = inodes_[FUSE_ROOT_ID];
  r.qid_path = root.qid.path;
  r.type = root.mode & S_IFMT;
  r.nlookup = 1;  // never forgotten
  by_qid_[root.qid.path] = FUSE_ROOT_ID;
}

filesystem::~filesystem() {
  for (auto& [fh, del] : handles_) del(fh);
  // The blank fids are not bound on the server: nothing to clunk.
  for (auto& b : blanks_) b.release();
}

template <class T>
std::uint64_t filesystem::keep_handle(std::shared_ptr<T> h) {
  const auto fh = reinterpret_cast<std::uint64_t>(new std::shared_ptr<T>(std::move(h)));
  std::lock_guard l(handles_mu_);
  handles_.emplace(fh, [](std::uint64_t x) { delete reinterpret_cast<std::shared_ptr<T>*>(x); });
  return fh;
}

void filesystem::drop_handle(std::uint64_t fh) {
  void (*del)(std::uint64_t) = nullptr;
  {
    std::lock_guard l(handles_mu_);
    auto it = handles_.find(fh);
    if (it == handles_.end()) return;
    del = it->second;
    handles_.erase(it);
  }
  del(fh);
}

std::uint32_t filesystem::io_size(const client::session& s) {
  // One FUSE read or write is one Tread or Twrite: the largest page multiple that fits in a
  // message, at most FUSE's 1 MiB.
  return std::clamp<std::uint32_t>(s.max_io() & ~4095u, 4096, 1u << 20);
}

void filesystem::spawn(fuse_req_t req, task<void> t) {
  asio::co_spawn(io_, std::move(t), [req](const std::exception_ptr& e) {
    // Only std::bad_alloc gets here (nothing else throws), before any reply was sent.
    if (e) fuse_reply_err(req, ENOMEM);
  });
}

// ---- requests and reconnection ----------------------------------------------------------

namespace {

/// Whether `e` says the connection is gone (rather than the server refusing one request): any
/// error but an errno from the server and our own cancellation.
bool connection_lost(const client::error& e) {
  return e.code.category() != std::generic_category() && e != errc::cancelled;
}

client::error replied(int /*fuse status*/) { return {}; }

}  // namespace

std::shared_ptr<client::session> filesystem::sess() const {
  std::lock_guard lk(mu_);
  return s_;
}

std::pair<std::shared_ptr<client::session>, std::uint64_t> filesystem::conn() const {
  std::lock_guard lk(mu_);
  return {s_, gen_.load()};
}

template <class Body>
filesystem::task<void> filesystem::serve(fuse_req_t req, bool idempotent, Body body) {
  scope sc(req);
  auto deadline = std::chrono::steady_clock::time_point::max();
  for (;;) {
    const std::uint64_t gen = gen_.load();
    sc.sent = false;
    client::error e = co_await body(sc);
    if (!e) co_return;  // replied
    // After a drop: wait for the redial and do it again, unless it may have changed the
    // server already (a create, a rename... whose reply was lost).
    if (connection_lost(e) && o_.reconnect_timeout.count() > 0 && (idempotent || !sc.sent)) {
      if (deadline == std::chrono::steady_clock::time_point::max())
        deadline = std::chrono::steady_clock::now() + o_.reconnect_timeout;
      if (co_await reconnected(gen, deadline, sc)) continue;
      if (!sc.co.stop.stop_requested())
        e = errno_code(EIO);
      else
        e = make_error_code(errc::cancelled);
    }
    fuse_reply_err(req, errno_of(e));
    co_return;
  }
}

filesystem::task<bool> filesystem::reconnected(std::uint64_t gen,
                                               std::chrono::steady_clock::time_point deadline,
                                               scope& sc) {
  if (gen_.load() == gen && !reconnecting_.exchange(true))
    asio::co_spawn(io_, reconnect(), asio::detached);
  // Polled: the wait is bounded by the poll interval, and nothing needs waking across threads.
  asio::steady_timer t(io_);
  while (gen_.load() == gen) {
    if (stopping_.load() || sc.co.stop.stop_requested() ||
        std::chrono::steady_clock::now() >= deadline)
      co_return false;
    t.expires_after(std::chrono::milliseconds(50));
    std::error_code ec;
    co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  co_return true;
}

filesystem::task<void> filesystem::reconnect() {
  // Redial with backoff until it works or we are unmounting; then every inode re-walks its
  // path and every open file re-opens when next used.
  auto backoff = std::chrono::milliseconds(100);
  asio::steady_timer t(io_);
  auto addr = transport::parse_address(o_.address);
  while (!stopping_.load() && addr) {
    auto st = transport::dial(io_, *addr, std::chrono::seconds(2));
    if (st) {
      client::options so = o_.session;
      so.dialect = dialect_;  // the inode table's meaning depends on it
      so.connect_timeout = std::chrono::seconds(10);
      auto ns = co_await client::session::start(std::move(*st), so);
      if (ns) {
        std::vector<file_ptr> old_fids;
        std::vector<client::file> old_blanks;
        std::shared_ptr<client::session> old;
        {
          std::lock_guard lk(mu_);
          // The old connection is closed before the new one is published: a fid number of the
          // new one can then never be sent on the old one (where it may name another file).
          s_->close();
          old = std::exchange(s_, std::move(*ns));
          for (auto& [ino, n] : inodes_)
            if (n.fid) old_fids.push_back(std::move(n.fid));
          old_blanks = std::move(blanks_);
          blanks_.clear();
          ++gen_;
          ++reconnects_;
        }
        for (auto& b : old_blanks) b.release();
        reconnecting_ = false;
        co_return;
      }
    }
    t.expires_after(backoff);
    std::error_code ec;
    co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
  }
  reconnecting_ = false;
}

filesystem::task<client::outcome<filesystem::file_ptr>> filesystem::file_of(
    const std::shared_ptr<open_file>& h, scope& sc) {
  auto [s, gen] = conn();
  {
    std::lock_guard lk(mu_);
    if (h->gen == gen) co_return h->f;
  }
  // Opened on a connection since lost: open the file again, by its path, with its flags (less
  // those that would change it again).
  auto path = path_of(h->ino);
  if (!path) co_return client::fail(errno_code(EIO));
  auto f = co_await s->open(*path, h->flags & ~(dotl::trunc | dotl::create | dotl::excl), sc.co);
  if (!f) co_return client::fail(f.error());
  auto p = std::make_shared<client::file>(std::move(*f));
  std::lock_guard lk(mu_);
  if (gen_.load() == gen && h->gen != gen) {
    h->f = std::move(p);
    h->gen = gen;
  }
  co_return h->gen == gen ? h->f : p;
}

// ---- the inode table -------------------------------------------------------------------

std::string filesystem::path_of_locked(fuse_ino_t ino, int& err) const {
  std::vector<const std::string*> names;
  for (fuse_ino_t at = ino; at != FUSE_ROOT_ID;) {
    auto it = inodes_.find(at);
    // An inode whose ancestor the kernel forgot, or one that lost its last name.
    if (it == inodes_.end() || it->second.parent == 0 || names.size() > 4096) {
      err = ESTALE;
      return {};
    }
    names.push_back(&it->second.name);
    at = it->second.parent;
  }
  std::string p;
  for (auto n = names.rbegin(); n != names.rend(); ++n) {
    p += '/';
    p += **n;
  }
  err = 0;
  return p;
}

client::outcome<std::string> filesystem::path_of(fuse_ino_t ino) const {
  std::lock_guard lk(mu_);
  int err = 0;
  std::string p = path_of_locked(ino, err);
  if (err != 0) return client::fail(errno_code(err));
  return p;
}

client::outcome<std::string> filesystem::child_path(fuse_ino_t parent,
                                                    std::string_view name) const {
  auto p = path_of(parent);
  if (!p) return p;
  *p += '/';
  *p += name;
  return p;
}

fuse_entry_param filesystem::remember(fuse_ino_t parent, std::string_view name,
                                      const client::attr& a, file_ptr f, std::uint64_t fid_gen) {
  fuse_entry_param e{};
  file_ptr dropped;  // destroyed (clunked) outside the lock
  {
    std::lock_guard lk(mu_);
    fuse_ino_t ino = 0;
    auto q = by_qid_.find(a.qid.path);
    if (q != by_qid_.end()) {
      auto it = inodes_.find(q->second);
      // A server that reuses a qid.path for a file of another type: a new inode for the kernel.
      if (it != inodes_.end() && it->second.type == (a.mode & S_IFMT)) ino = q->second;
    }
    if (ino == 0) {
      ino = next_ino_++;
      inode& n = inodes_[ino];
      n.qid_path = a.qid.path;
      n.type = a.mode & S_IFMT;
      by_qid_[a.qid.path] = ino;
    }
    inode& n = inodes_[ino];
    if (ino != FUSE_ROOT_ID) {
      if (n.parent != 0 && (n.parent != parent || n.name != name)) {
        auto old = names_.find(std::make_pair(n.parent, n.name));
        if (old != names_.end() && old->second == ino) names_.erase(old);
      }
      n.parent = parent;
      n.name = std::string(name);
      names_[std::make_pair(parent, n.name)] = ino;
    }
    if (!n.fid && fid_gen == gen_.load())
      n.fid = std::move(f);
    else
      dropped = std::move(f);
    ++n.nlookup;
    n.size = a.size;
    e.ino = ino;
  }
  e.attr = to_stat(a);
  e.attr_timeout = attr_timeout();
  e.entry_timeout = entry_timeout();
  return e;
}

void filesystem::forget_one(fuse_ino_t ino, std::uint64_t n) {
  file_ptr dropped;
  std::lock_guard lk(mu_);
  auto it = inodes_.find(ino);
  if (it == inodes_.end() || ino == FUSE_ROOT_ID) return;
  inode& node = it->second;
  node.nlookup -= std::min(n, node.nlookup);
  if (node.nlookup > 0) return;
  auto nm = names_.find(std::make_pair(node.parent, node.name));
  if (nm != names_.end() && nm->second == ino) names_.erase(nm);
  auto q = by_qid_.find(node.qid_path);
  if (q != by_qid_.end() && q->second == ino) by_qid_.erase(q);
  dropped = std::move(node.fid);  // its last user clunks it
  inodes_.erase(it);
}

void filesystem::note_open(fuse_ino_t ino, const file_ptr& f, std::uint64_t gen) {
  std::lock_guard lk(mu_);
  auto it = inodes_.find(ino);
  if (it == inodes_.end()) return;
  it->second.any_open = f;
  it->second.any_open_gen = gen;
}

void filesystem::noted_size(fuse_ino_t ino, std::uint64_t size) {
  std::lock_guard lk(mu_);
  auto it = inodes_.find(ino);
  if (it != inodes_.end()) it->second.size = size;
}

void filesystem::drop_name(fuse_ino_t parent, const std::string& name) {
  std::lock_guard lk(mu_);
  auto nm = names_.find(std::make_pair(parent, name));
  if (nm == names_.end()) return;
  auto it = inodes_.find(nm->second);
  // Still open, perhaps: it keeps its fid but has no path any more.
  if (it != inodes_.end() && it->second.parent == parent && it->second.name == name)
    it->second.parent = 0;
  names_.erase(nm);
}

void filesystem::moved(fuse_ino_t parent, const std::string& name, fuse_ino_t newparent,
                       const std::string& newname) {
  drop_name(newparent, newname);  // replaced, if it existed
  std::vector<file_ptr> stale;    // clunked outside the lock
  std::lock_guard lk(mu_);
  auto nm = names_.find(std::make_pair(parent, name));
  if (nm == names_.end()) return;
  fuse_ino_t ino = nm->second;
  names_.erase(nm);
  auto it = inodes_.find(ino);
  if (it == inodes_.end()) return;
  it->second.parent = newparent;
  it->second.name = newname;
  names_[std::make_pair(newparent, newname)] = ino;
  // Servers that keep a path per fid (diod) do not update it on a rename: the fids of the
  // moved inode and of everything under it are walked again, by their new paths, when next
  // needed.
  for (auto& [i, n] : inodes_) {
    if (!n.fid) continue;
    for (fuse_ino_t at = i; at != 0 && at != FUSE_ROOT_ID;) {
      if (at == ino) {
        stale.push_back(std::move(n.fid));
        break;
      }
      auto up = inodes_.find(at);
      at = up == inodes_.end() ? 0 : up->second.parent;
    }
  }
}

struct stat filesystem::to_stat(const client::attr& a) const {
  struct stat st {};
  st.st_ino = a.qid.path;
  st.st_mode = a.mode;
  st.st_nlink = static_cast<nlink_t>(a.nlink);
  // 9P2000 has names only: the files look like the mounter's.
  st.st_uid = a.uid == client::no_id ? ::getuid() : a.uid;
  st.st_gid = a.gid == client::no_id ? ::getgid() : a.gid;
  st.st_rdev = static_cast<dev_t>(a.rdev);
  st.st_size = static_cast<off_t>(a.size);
  st.st_blksize = a.blksize != 0 ? static_cast<blksize_t>(a.blksize) : 4096;
  st.st_blocks = a.blocks != 0 || dotl() ? static_cast<blkcnt_t>(a.blocks)
                                         : static_cast<blkcnt_t>((a.size + 511) / 512);
  st.st_atim = {a.atime_sec, a.atime_nsec};
  st.st_mtim = {a.mtime_sec, a.mtime_nsec};
  st.st_ctim = {a.ctime_sec, a.ctime_nsec};
  return st;
}

// ---- 9P helpers -----------------------------------------------------------------------

filesystem::task<client::outcome<filesystem::file_ptr>> filesystem::fid_of(
    fuse_ino_t ino, const client::call_options& co) {
  auto [s, gen] = conn();
  std::string path;
  {
    std::lock_guard lk(mu_);
    auto it = inodes_.find(ino);
    if (it == inodes_.end()) co_return client::fail(errno_code(ESTALE));
    if (it->second.fid) co_return it->second.fid;
    int err = 0;
    path = path_of_locked(ino, err);
    if (err != 0) {
      // No name leads to it any more; an open file of it still does.
      if (auto open = it->second.any_open.lock(); open && it->second.any_open_gen == gen)
        co_return open;
      co_return client::fail(errno_code(err));
    }
  }
  auto f = co_await s->walk(path, co);
  if (!f) co_return client::fail(f.error());
  auto p = std::make_shared<client::file>(std::move(*f));
  std::lock_guard lk(mu_);
  auto it = inodes_.find(ino);
  if (it == inodes_.end()) co_return p;          // forgotten meanwhile: this caller's alone
  if (gen_.load() != gen) co_return p;           // reconnected meanwhile: not the inode's any more
  if (it->second.fid) co_return it->second.fid;  // another walk won; ours is clunked
  it->second.fid = p;
  co_return p;
}

filesystem::task<client::outcome<client::file>> filesystem::blank_fid(
    const client::call_options& co) {
  auto s = sess();
  {
    std::lock_guard lk(mu_);
    if (!blanks_.empty()) {
      client::file f = std::move(blanks_.back());
      blanks_.pop_back();
      co_return f;
    }
  }
  // A fid number the session keeps reserved while we hold the file: walked, then clunked on
  // the wire behind the session's back, so that Txattrwalk/Twalk can bind it as their newfid.
  auto f = co_await s->walk("", co);
  if (!f) co_return client::fail(f.error());
  auto r = co_await s->call(wire::Tclunk{f->fid()}, co);
  if (!r) co_return client::fail(r.error());  // f clunks it again: harmless either way
  co_return std::move(*f);
}

void filesystem::give_blank(client::file f, std::uint64_t gen) {
  std::lock_guard lk(mu_);
  // A number reserved by a connection since replaced means nothing on the new one.
  if (gen == gen_.load() && blanks_.size() < 64) {
    blanks_.push_back(std::move(f));
  } else {
    f.release();  // unbound on the server: nothing to clunk; the number stays reserved
  }
}

filesystem::task<client::outcome<void>> filesystem::clunk_raw(client::file f, std::uint64_t gen,
                                                              const client::call_options& co) {
  auto s = sess();
  auto r = co_await s->call(wire::Tclunk{f.fid()}, co);
  // clunk(5): the fid is gone whatever the answer; unless the answer never came.
  if (r || r.error().code.category() == std::generic_category()) {
    give_blank(std::move(f), gen);
  } else {
    f.release();
  }
  if (!r) co_return client::fail(r.error());
  co_return client::outcome<void>{};
}

/// Replies to a request that made `parent`/`name` with its entry: walk, then getattr.
filesystem::task<client::error> filesystem::entry_reply(scope& sc, fuse_req_t req,
                                                        fuse_ino_t parent, std::string name) {
  const client::call_options& co = sc.co;
  auto [s, gen] = conn();
  auto path = child_path(parent, name);
  if (!path) co_return path.error();
  auto f = co_await s->walk(*path, co);
  if (!f) co_return f.error();
  auto a = co_await s->stat(*f, co);
  if (!a) co_return a.error();
  auto e = remember(parent, name, *a, std::make_shared<client::file>(std::move(*f)), gen);
  if (fuse_reply_entry(req, &e) != 0) forget_one(e.ino, 1);
  co_return client::error{};
}

// ---- operations -----------------------------------------------------------------------

filesystem::task<client::error> filesystem::lookup(scope& sc, fuse_req_t req, fuse_ino_t parent,
                                                   std::string name) {
  auto s = sess();
  co_return co_await entry_reply(sc, req, parent, std::move(name));
  co_return client::error{};
}

filesystem::task<client::error> filesystem::getattr(scope& sc, fuse_req_t req, fuse_ino_t ino,
                                                    std::shared_ptr<open_file> h) {
  auto s = sess();
  file_ptr f;
  if (h) {
    auto r = co_await file_of(h, sc);
    if (!r) co_return r.error();
    f = std::move(*r);
  } else {
    auto r = co_await fid_of(ino, sc.co);
    if (!r) co_return r.error();
    f = std::move(*r);
  }
  auto a = co_await s->stat(*f, sc.co);
  if (!a) co_return a.error();
  noted_size(ino, a->size);
  struct stat st = to_stat(*a);
  fuse_reply_attr(req, &st, attr_timeout());
  co_return client::error{};
}

filesystem::task<client::error> filesystem::setattr(scope& sc, fuse_req_t req, fuse_ino_t ino,
                                                    struct stat st, int to_set,
                                                    std::shared_ptr<open_file> h) {
  auto s = sess();
  file_ptr f;
  if (h) {
    auto r = co_await file_of(h, sc);
    if (!r) co_return r.error();
    f = std::move(*r);
  } else {
    auto r = co_await fid_of(ino, sc.co);
    if (!r) co_return r.error();
    f = std::move(*r);
  }
  if (dotl()) {
    // Tsetattr on the fid itself: works for an open file after its last name is gone.
    wire::Tsetattr t{};
    t.fid = f->fid();
    if (to_set & FUSE_SET_ATTR_MODE) t.valid |= dotl::setattr_mode, t.mode = st.st_mode & 07777;
    if (to_set & FUSE_SET_ATTR_UID) t.valid |= dotl::setattr_uid, t.uid = st.st_uid;
    if (to_set & FUSE_SET_ATTR_GID) t.valid |= dotl::setattr_gid, t.gid = st.st_gid;
    if (to_set & FUSE_SET_ATTR_SIZE)
      t.valid |= dotl::setattr_size, t.size = static_cast<std::uint64_t>(st.st_size);
    // Without *_SET the server takes its own clock (UTIME_NOW).
    if (to_set & FUSE_SET_ATTR_ATIME_NOW) {
      t.valid |= dotl::setattr_atime;
    } else if (to_set & FUSE_SET_ATTR_ATIME) {
      t.valid |= dotl::setattr_atime | dotl::setattr_atime_set;
      t.atime_sec = static_cast<std::uint64_t>(st.st_atim.tv_sec);
      t.atime_nsec = static_cast<std::uint64_t>(st.st_atim.tv_nsec);
    }
    if (to_set & FUSE_SET_ATTR_MTIME_NOW) {
      t.valid |= dotl::setattr_mtime;
    } else if (to_set & FUSE_SET_ATTR_MTIME) {
      t.valid |= dotl::setattr_mtime | dotl::setattr_mtime_set;
      t.mtime_sec = static_cast<std::uint64_t>(st.st_mtim.tv_sec);
      t.mtime_nsec = static_cast<std::uint64_t>(st.st_mtim.tv_nsec);
    }
    if (to_set & FUSE_SET_ATTR_CTIME) t.valid |= dotl::setattr_ctime;
    auto r = co_await s->call(t, sc.co);
    if (!r) co_return r.error();
  } else {
    // 9P2000/.u: Twstat on the fid (an open file's, if any: it works after the last name is
    // gone), every field "don't touch" (stat(5)) but those asked for; whole seconds, "now" from
    // our clock.
    wire::stat w = wire::stat::unchanged();
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    if (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
      if (dialect_ == wire::dialect::v2000) co_return errno_code(EOPNOTSUPP);  // names only
      if (to_set & FUSE_SET_ATTR_UID) w.n_uid = st.st_uid;
      if (to_set & FUSE_SET_ATTR_GID) w.n_gid = st.st_gid;
    }
    if (to_set & FUSE_SET_ATTR_MODE) {
      // The file's kind must stay as it is: its dm bits from what we know of it.
      std::uint32_t type = S_IFREG;
      {
        std::lock_guard lk(mu_);
        auto it = inodes_.find(ino);
        if (it != inodes_.end()) type = it->second.type;
      }
      w.mode = wire::dm_mode(type | (st.st_mode & 07777), dialect_);
    }
    if (to_set & FUSE_SET_ATTR_SIZE) w.length = static_cast<std::uint64_t>(st.st_size);
    if (to_set & FUSE_SET_ATTR_ATIME_NOW)
      w.atime = static_cast<std::uint32_t>(now);
    else if (to_set & FUSE_SET_ATTR_ATIME)
      w.atime = static_cast<std::uint32_t>(st.st_atim.tv_sec);
    if (to_set & FUSE_SET_ATTR_MTIME_NOW)
      w.mtime = static_cast<std::uint32_t>(now);
    else if (to_set & FUSE_SET_ATTR_MTIME)
      w.mtime = static_cast<std::uint32_t>(st.st_mtim.tv_sec);
    auto r = co_await s->call(wire::Twstat{f->fid(), w}, sc.co);
    if (!r) co_return r.error();
  }
  auto a = co_await s->stat(*f, sc.co);
  if (!a) co_return a.error();
  struct stat out = to_stat(*a);
  fuse_reply_attr(req, &out, attr_timeout());
  co_return client::error{};
}

filesystem::task<client::error> filesystem::readlink(scope& sc, fuse_req_t req, fuse_ino_t ino) {
  auto s = sess();
  if (dotl()) {
    auto f = co_await fid_of(ino, sc.co);
    if (!f) co_return f.error();
    auto r = co_await s->call(wire::Treadlink{(*f)->fid()}, sc.co);
    if (!r) co_return r.error();
    const auto* rl = as<wire::Rreadlink>(*r);
    if (rl == nullptr) co_return errno_code(EIO);
    std::string target(rl->target);
    co_return replied(fuse_reply_readlink(req, target.c_str()));
  }
  auto path = path_of(ino);
  if (!path) co_return path.error();
  auto t = co_await s->readlink(*path, sc.co);
  if (!t) co_return t.error();
  fuse_reply_readlink(req, t->c_str());
  co_return client::error{};
}

filesystem::task<client::error> filesystem::mknod(scope& sc, fuse_req_t req, fuse_ino_t parent,
                                                  std::string name, mode_t mode, dev_t rdev) {
  auto s = sess();
  if (!dotl()) {
    // 9P2000/.u: a regular file is a create; devices, FIFOs and sockets are not mapped.
    if (!S_ISREG(mode)) co_return errno_code(EPERM);
    auto path = child_path(parent, name);
    if (!path) co_return path.error();
    sc.sent = true;
    auto f = co_await s->create(*path, dotl::rdonly, mode & 07777, sc.co);
    if (!f) co_return f.error();
    co_await s->clunk(std::move(*f), sc.co);
    co_return co_await entry_reply(sc, req, parent, std::move(name));
  }
  auto d = co_await fid_of(parent, sc.co);
  if (!d) co_return d.error();
  const fuse_ctx* cx = fuse_req_ctx(req);
  sc.sent = true;
  auto r = co_await s->call(wire::Tmknod{(*d)->fid(), name, static_cast<std::uint32_t>(mode),
                                         major(rdev), minor(rdev), cx->gid},
                            sc.co);
  if (!r) co_return r.error();
  co_return co_await entry_reply(sc, req, parent, std::move(name));
  co_return client::error{};
}

filesystem::task<client::error> filesystem::mkdir(scope& sc, fuse_req_t req, fuse_ino_t parent,
                                                  std::string name, mode_t mode) {
  auto s = sess();
  if (dotl()) {
    auto d = co_await fid_of(parent, sc.co);
    if (!d) co_return d.error();
    const fuse_ctx* cx = fuse_req_ctx(req);
    sc.sent = true;
    auto r = co_await s->call(
        wire::Tmkdir{(*d)->fid(), name, static_cast<std::uint32_t>(mode & 07777), cx->gid}, sc.co);
    if (!r) co_return r.error();
  } else {
    auto path = child_path(parent, name);
    if (!path) co_return path.error();
    sc.sent = true;
    auto r = co_await s->mkdir(*path, mode & 0777, sc.co);
    if (!r) co_return r.error();
  }
  co_return co_await entry_reply(sc, req, parent, std::move(name));
  co_return client::error{};
}

filesystem::task<client::error> filesystem::remove(scope& sc, fuse_req_t req, fuse_ino_t parent,
                                                   std::string name, bool dir) {
  auto s = sess();
  bool done = false;
  if (dotl()) {
    auto d = co_await fid_of(parent, sc.co);
    if (!d) co_return d.error();
    sc.sent = true;
    auto r =
        co_await s->call(wire::Tunlinkat{(*d)->fid(), name, dir ? dotl::at_removedir : 0u}, sc.co);
    // v9fs falls back to Tremove only on EOPNOTSUPP; any other errno is final.
    if (!r && r.error() != std::errc::operation_not_supported &&
        r.error() != std::errc::function_not_supported)
      co_return r.error();
    done = r.has_value();
  }
  if (!done) {
    auto path = child_path(parent, name);
    if (!path) co_return path.error();
    sc.sent = true;
    auto r = co_await s->remove(*path, sc.co);
    if (!r) co_return r.error();
  }
  drop_name(parent, name);
  fuse_reply_err(req, 0);
  co_return client::error{};
}

filesystem::task<client::error> filesystem::symlink(scope& sc, fuse_req_t req, std::string target,
                                                    fuse_ino_t parent, std::string name) {
  auto s = sess();
  if (dotl()) {
    auto d = co_await fid_of(parent, sc.co);
    if (!d) co_return d.error();
    const fuse_ctx* cx = fuse_req_ctx(req);
    sc.sent = true;
    auto r = co_await s->call(wire::Tsymlink{(*d)->fid(), name, target, cx->gid}, sc.co);
    if (!r) co_return r.error();
  } else {
    auto path = child_path(parent, name);
    if (!path) co_return path.error();
    sc.sent = true;
    auto r = co_await s->symlink(target, *path, sc.co);
    if (!r) co_return r.error();
  }
  co_return co_await entry_reply(sc, req, parent, std::move(name));
  co_return client::error{};
}

filesystem::task<client::error> filesystem::rename(scope& sc, fuse_req_t req, fuse_ino_t parent,
                                                   std::string name, fuse_ino_t newparent,
                                                   std::string newname, unsigned flags) {
  auto s = sess();
  // RENAME_NOREPLACE and RENAME_EXCHANGE have no 9P message: refused as filesystems without
  // them refuse (the kernel then falls back or reports it).
  if (flags != 0) co_return errno_code(EINVAL);
  bool done = false;
  if (dotl()) {
    auto od = co_await fid_of(parent, sc.co);
    if (!od) co_return od.error();
    auto nd = co_await fid_of(newparent, sc.co);
    if (!nd) co_return nd.error();
    sc.sent = true;
    auto r = co_await s->call(wire::Trenameat{(*od)->fid(), name, (*nd)->fid(), newname}, sc.co);
    if (!r && r.error() != std::errc::operation_not_supported &&
        r.error() != std::errc::function_not_supported)
      co_return r.error();
    done = r.has_value();
  }
  if (!done) {
    // Trename (9P2000.L) or Twstat in one directory (9P2000/.u), by path.
    auto from = child_path(parent, name);
    auto to = child_path(newparent, newname);
    if (!from || !to) co_return errno_code(ESTALE);
    sc.sent = true;
    auto r = co_await s->rename(*from, *to, sc.co);
    if (!r && !dotl() && r.error() == std::errc::file_exists) {
      // 9P2000/.u wstat renames refuse to replace; rename(2) replaces: remove, then rename
      // (not atomic; a non-empty directory stays and the error stands).
      if (co_await s->remove(*to, sc.co)) r = co_await s->rename(*from, *to, sc.co);
    }
    if (!r)
      co_return r.error() == std::errc::operation_not_supported ? client::error(errno_code(EXDEV))
                                                                : r.error();
  }
  moved(parent, name, newparent, newname);
  fuse_reply_err(req, 0);
  co_return client::error{};
}

filesystem::task<client::error> filesystem::link(scope& sc, fuse_req_t req, fuse_ino_t ino,
                                                 fuse_ino_t newparent, std::string newname) {
  auto s = sess();
  auto f = co_await fid_of(ino, sc.co);
  if (!f) co_return f.error();
  if (dotl()) {
    auto d = co_await fid_of(newparent, sc.co);
    if (!d) co_return d.error();
    sc.sent = true;
    auto r = co_await s->call(wire::Tlink{(*d)->fid(), (*f)->fid(), newname}, sc.co);
    if (!r) co_return r.error();
  } else {
    auto from = path_of(ino);
    auto to = child_path(newparent, newname);
    if (!from || !to) co_return errno_code(ESTALE);
    sc.sent = true;
    auto r = co_await s->link(*from, *to, sc.co);
    if (!r) co_return r.error();
  }
  auto a = co_await s->stat(**f, sc.co);
  if (!a) co_return a.error();
  // The same inode under a second name (remember() finds it by qid.path).
  auto e = remember(newparent, newname, *a, nullptr);
  if (fuse_reply_entry(req, &e) != 0) forget_one(e.ino, 1);
  co_return client::error{};
}

filesystem::task<client::error> filesystem::open(scope& sc, fuse_req_t req, fuse_ino_t ino,
                                                 fuse_file_info fi) {
  const std::uint64_t gen = gen_.load();
  auto s = sess();
  auto path = path_of(ino);
  file_ptr f;
  const std::uint32_t flags = dotl_flags(fi.flags);
  if (path) {
    auto r = co_await s->open(*path, flags, sc.co);
    if (!r) co_return r.error();
    f = std::make_shared<client::file>(std::move(*r));
  } else {
    co_return path.error();
  }
  bool keep = false;
  bool direct = o_.direct_io;
  {
    std::lock_guard lk(mu_);
    auto it = inodes_.find(ino);
    if (it != inodes_.end()) {
      // A synthetic file (a stream, a value computed at each read) says size 0 and keeps no
      // version: read it through, not through the page cache, which would see an empty file
      // and never ask. Files of real filesystems have versions (mtime and size).
      direct =
          direct || (it->second.type == S_IFREG && f->qid().version == 0 && it->second.size == 0);
      // Pages cached by an earlier open are still right if the file's version has not moved.
      const std::uint32_t v = f->qid().version;
      keep = !o_.cache_none && v != 0 && v == it->second.seen_version;
      it->second.seen_version = v;
    }
  }
  auto h = std::make_shared<open_file>();
  h->f = std::move(f);
  h->ino = ino;
  h->flags = flags;
  h->gen = gen;
  note_open(ino, h->f, gen);
  fi.fh = keep_handle(std::move(h));
  fi.keep_cache = keep ? 1 : 0;
  fi.direct_io = direct ? 1 : 0;
  if (fuse_reply_open(req, &fi) != 0) drop_handle(fi.fh);  // interrupted: no release
  co_return client::error{};
}

filesystem::task<client::error> filesystem::create(scope& sc, fuse_req_t req, fuse_ino_t parent,
                                                   std::string name, mode_t mode,
                                                   fuse_file_info fi) {
  const std::uint64_t gen = gen_.load();
  auto s = sess();
  const std::uint32_t flags = dotl_flags(fi.flags);
  client::file f;
  if (dotl()) {
    // The parent walked to a new fid, which Tlcreate turns into the new file, opened; with the
    // caller's gid.
    auto dir = path_of(parent);
    if (!dir) co_return dir.error();
    auto d = co_await s->walk(*dir, sc.co);
    if (!d) co_return d.error();
    const fuse_ctx* cx = fuse_req_ctx(req);
    sc.sent = true;
    auto r = co_await s->call(
        wire::Tlcreate{d->fid(), name, flags, static_cast<std::uint32_t>(mode & 07777), cx->gid},
        sc.co);
    if (!r) co_return r.error();
    f = std::move(*d);
  } else {
    auto path = child_path(parent, name);
    if (!path) co_return path.error();
    sc.sent = true;
    auto r = co_await s->create(*path, flags, mode & 0777, sc.co);
    if (!r) co_return r.error();
    f = std::move(*r);
  }
  auto a = co_await s->stat(f, sc.co);
  if (!a) co_return a.error();
  auto e = remember(parent, name, *a, nullptr);
  auto h = std::make_shared<open_file>();
  h->f = std::make_shared<client::file>(std::move(f));
  h->ino = e.ino;
  h->flags = flags;
  h->gen = gen;
  note_open(e.ino, h->f, gen);
  fi.fh = keep_handle(std::move(h));
  if (fuse_reply_create(req, &e, &fi) != 0) {
    drop_handle(fi.fh);
    forget_one(e.ino, 1);
  }
  co_return client::error{};
}

filesystem::task<client::error> filesystem::read(scope& sc, fuse_req_t req,
                                                 std::shared_ptr<open_file> h, std::size_t size,
                                                 off_t off) {
  auto s = sess();
  auto hf = co_await file_of(h, sc);
  if (!hf) co_return hf.error();
  client::file& hfile = **hf;
  std::vector<std::byte> buf(size);
  auto n = co_await s->read(hfile, static_cast<std::uint64_t>(off), buf, sc.co);
  if (!n) co_return n.error();
  fuse_reply_buf(req, reinterpret_cast<const char*>(buf.data()), *n);
  co_return client::error{};
}

filesystem::task<client::error> filesystem::write(scope& sc, fuse_req_t req,
                                                  std::shared_ptr<open_file> h,
                                                  std::vector<std::byte> data, off_t off) {
  auto s = sess();
  auto hf = co_await file_of(h, sc);
  if (!hf) co_return hf.error();
  client::file& hfile = **hf;
  auto n = co_await s->write(hfile, static_cast<std::uint64_t>(off), data, sc.co);
  if (!n) co_return n.error();
  fuse_reply_write(req, *n);
  co_return client::error{};
}

filesystem::task<client::error> filesystem::flush(scope& sc, fuse_req_t req,
                                                  std::shared_ptr<open_file> h,
                                                  std::uint64_t owner) {
  auto s = sess();
  auto hf = co_await file_of(h, sc);
  if (!hf) co_return hf.error();
  client::file& hfile = **hf;
  // close(2) drops the caller's POSIX locks; here they live on the server, so say so there.
  if (h->locked.load() && dotl()) {
    const fuse_ctx* cx = fuse_req_ctx(req);
    (void)owner;
    co_await s->call(wire::Tlock{hfile.fid(), dotl::lock_type_unlck, 0, 0, 0,
                                 static_cast<std::uint32_t>(cx->pid), client_id_},
                     sc.co);
  }
  fuse_reply_err(req, 0);
  co_return client::error{};
}

filesystem::task<client::error> filesystem::fsync(scope& sc, fuse_req_t req,
                                                  std::shared_ptr<open_file> h, int datasync) {
  auto s = sess();
  auto hf = co_await file_of(h, sc);
  if (!hf) co_return hf.error();
  client::file& hfile = **hf;
  client::outcome<void> r;
  if (dotl()) {
    auto rr = co_await s->call(wire::Tfsync{hfile.fid(), datasync != 0 ? 1u : 0u}, sc.co);
    if (!rr) r = client::fail(rr.error());
  } else {
    r = co_await s->fsync(hfile, sc.co);
  }
  if (!r) co_return r.error();
  fuse_reply_err(req, 0);
  co_return client::error{};
}

filesystem::task<client::error> filesystem::readdir(scope& sc, fuse_req_t req, fuse_ino_t ino,
                                                    std::shared_ptr<dir_handle> d, std::size_t size,
                                                    off_t off, bool plus) {
  auto s = sess();
  if (!d->loaded || off == 0) {
    auto path = path_of(ino);
    if (!path) co_return path.error();
    // With plus, the attributes of every entry come back at once: the session pipelines the
    // walks and getattrs of the whole listing (9P2000/.u listings carry them anyway).
    auto r = co_await s->readdir(*path, plus, sc.co);
    if (!r) co_return r.error();
    d->entries = std::move(*r);
    d->loaded = true;
  }
  std::vector<char> buf(size);
  std::size_t used = 0;
  const std::size_t n = d->entries.size() + 2;
  for (auto i = static_cast<std::size_t>(std::max<off_t>(off, 0)); i < n; ++i) {
    const char* name = i == 0 ? "." : i == 1 ? ".." : d->entries[i - 2].name.c_str();
    const auto next = static_cast<off_t>(i + 1);
    std::size_t want = 0;
    if (!plus) {
      struct stat st {};
      if (i < 2) {
        st.st_mode = S_IFDIR;
      } else {
        const auto& e = d->entries[i - 2];
        st.st_ino = e.qid.path;
        st.st_mode = e.attr                             ? (e.attr->mode & S_IFMT)
                     : (e.qid.type & wire::qt::dir)     ? S_IFDIR
                     : (e.qid.type & wire::qt::symlink) ? S_IFLNK
                                                        : S_IFREG;
      }
      want = fuse_add_direntry(req, buf.data() + used, size - used, name, &st, next);
      if (want > size - used) break;
    } else {
      fuse_entry_param e{};
      if (i < 2) {
        e.attr.st_mode = S_IFDIR;  // no lookup count for the dots (ino 0)
      } else {
        const auto& de = d->entries[i - 2];
        if (!de.attr) continue;  // removed since the listing
        e = remember(ino, de.name, *de.attr, nullptr);
      }
      want = fuse_add_direntry_plus(req, buf.data() + used, size - used, name, &e, next);
      if (want > size - used) {
        if (e.ino != 0) forget_one(e.ino, 1);
        break;
      }
    }
    used += want;
  }
  fuse_reply_buf(req, buf.data(), used);
  co_return client::error{};
}

filesystem::task<client::error> filesystem::statfs(scope& sc, fuse_req_t req, fuse_ino_t ino) {
  auto s = sess();
  struct statvfs v {};
  v.f_namemax = 255;
  v.f_bsize = v.f_frsize = 4096;
  if (dotl()) {
    auto f = co_await fid_of(ino, sc.co);
    if (!f) co_return f.error();
    auto r = co_await s->call(wire::Tstatfs{(*f)->fid()}, sc.co);
    if (!r) co_return r.error();
    if (const auto* sf = as<wire::Rstatfs>(*r)) {
      v.f_bsize = v.f_frsize = sf->bsize;
      v.f_blocks = sf->blocks;
      v.f_bfree = sf->bfree;
      v.f_bavail = sf->bavail;
      v.f_files = sf->files;
      v.f_ffree = sf->ffree;
      v.f_favail = sf->ffree;
      v.f_fsid = sf->fsid;
      v.f_namemax = sf->namelen;
    }
  }
  fuse_reply_statfs(req, &v);
  co_return client::error{};
}

filesystem::task<client::error> filesystem::setxattr(scope& sc, fuse_req_t req, fuse_ino_t ino,
                                                     std::string name, std::vector<std::byte> value,
                                                     int flags) {
  auto s = sess();
  if (!dotl()) co_return errno_code(EOPNOTSUPP);
  auto f = co_await fid_of(ino, sc.co);
  if (!f) co_return f.error();
  const std::uint64_t xgen = gen_.load();
  auto x = co_await blank_fid(sc.co);
  if (!x) co_return x.error();
  // Txattrcreate turns a fid of the file into the attribute's: clone, create, write, clunk;
  // the Rclunk is the commit (an empty value removes, as removexattr(2) through v9fs does).
  auto w = co_await s->call(wire::Twalk{(*f)->fid(), x->fid(), {}}, sc.co);
  if (!w) {
    give_blank(std::move(*x), xgen);
    co_return w.error();
  }
  std::uint32_t xf = 0;
  if (flags & XATTR_CREATE) xf |= dotl::xattr_create;
  if (flags & XATTR_REPLACE) xf |= dotl::xattr_replace;
  auto c = co_await s->call(wire::Txattrcreate{x->fid(), name, value.size(), xf}, sc.co);
  client::outcome<void> out;
  if (!c) out = client::fail(c.error());
  if (c && !value.empty()) {
    auto n = co_await s->write(*x, 0, value, sc.co);
    if (!n) out = client::fail(n.error());
  }
  auto k = co_await clunk_raw(std::move(*x), xgen, sc.co);
  if (out && !k) out = k;
  if (!out) co_return out.error();
  fuse_reply_err(req, 0);
  co_return client::error{};
}

filesystem::task<client::error> filesystem::getxattr(scope& sc, fuse_req_t req, fuse_ino_t ino,
                                                     std::string name, std::size_t size,
                                                     bool list) {
  auto s = sess();
  if (!dotl() && list)
    co_return replied(size == 0 ? fuse_reply_xattr(req, 0) : fuse_reply_buf(req, nullptr, 0));
  if (!dotl()) co_return errno_code(EOPNOTSUPP);
  auto f = co_await fid_of(ino, sc.co);
  if (!f) co_return f.error();
  const std::uint64_t xgen = gen_.load();
  auto x = co_await blank_fid(sc.co);
  if (!x) co_return x.error();
  // An empty name walks to the list of names. (Named here, not built inside the co_await:
  // g++ 12 destroys a conditional's temporary there twice.)
  const std::string_view xname = list ? std::string_view() : std::string_view(name);
  auto w = co_await s->call(wire::Txattrwalk{(*f)->fid(), x->fid(), xname}, sc.co);
  if (!w) {
    give_blank(std::move(*x), xgen);
    int e = errno_of(w.error());
    co_return e == ENOENT && !list ? client::error(errno_code(ENODATA)) : w.error();
  }
  const auto* xw = as<wire::Rxattrwalk>(*w);
  const std::uint64_t total = xw != nullptr ? xw->size : 0;
  int err = 0;
  std::vector<std::byte> buf;
  if (total > xattr_max) {
    err = E2BIG;
  } else if (size != 0 && total > size) {
    err = ERANGE;
  } else if (size != 0 && total > 0) {
    buf.resize(total);
    auto n = co_await s->read(*x, 0, buf, sc.co);
    if (!n)
      err = errno_of(n.error());
    else
      buf.resize(*n);
  }
  co_await clunk_raw(std::move(*x), xgen, sc.co);
  if (err != 0) co_return errno_code(err);
  if (size == 0) co_return replied(fuse_reply_xattr(req, total));
  fuse_reply_buf(req, reinterpret_cast<const char*>(buf.data()), buf.size());
  co_return client::error{};
}

filesystem::task<client::error> filesystem::getlk(scope& sc, fuse_req_t req,
                                                  std::shared_ptr<open_file> h, struct flock lk,
                                                  std::uint64_t /*owner*/) {
  auto s = sess();
  auto hf = co_await file_of(h, sc);
  if (!hf) co_return hf.error();
  client::file& hfile = **hf;
  if (!dotl()) co_return errno_code(ENOLCK);
  const fuse_ctx* cx = fuse_req_ctx(req);
  auto r = co_await s->call(
      wire::Tgetlock{hfile.fid(), wire_lock_type(lk.l_type), static_cast<std::uint64_t>(lk.l_start),
                     wire_lock_length(lk), static_cast<std::uint32_t>(cx->pid), client_id_},
      sc.co);
  if (!r) co_return r.error();
  const auto* g = as<wire::Rgetlock>(*r);
  if (g == nullptr) co_return errno_code(EIO);
  struct flock out {};
  out.l_type = host_lock_type(g->locktype);
  out.l_whence = SEEK_SET;
  out.l_start = static_cast<off_t>(g->start);
  out.l_len = static_cast<off_t>(g->length);
  out.l_pid = static_cast<pid_t>(g->proc_id);
  fuse_reply_lock(req, &out);
  co_return client::error{};
}

filesystem::task<client::error> filesystem::setlk(scope& sc, fuse_req_t req,
                                                  std::shared_ptr<open_file> h, struct flock lk,
                                                  std::uint64_t /*owner*/, bool wait) {
  auto s = sess();
  auto hf = co_await file_of(h, sc);
  if (!hf) co_return hf.error();
  client::file& hfile = **hf;
  if (!dotl()) co_return errno_code(ENOLCK);
  const fuse_ctx* cx = fuse_req_ctx(req);
  const wire::Tlock tl{hfile.fid(),
                       wire_lock_type(lk.l_type),
                       wait ? dotl::lock_flags_block : 0u,
                       static_cast<std::uint64_t>(lk.l_start),
                       wire_lock_length(lk),
                       static_cast<std::uint32_t>(cx->pid),
                       client_id_};
  if (lk.l_type != F_UNLCK) h->locked = true;
  asio::steady_timer timer(io_);
  for (;;) {
    auto r = co_await s->call(tl, sc.co);
    if (!r) co_return r.error();
    const auto* l = as<wire::Rlock>(*r);
    if (l == nullptr) co_return errno_code(EIO);
    if (l->status == dotl::lock_success) co_return replied(fuse_reply_err(req, 0));
    if (l->status != dotl::lock_blocked) co_return errno_code(ENOLCK);
    if (!wait) co_return errno_code(EAGAIN);
    // Blocked: servers do not sleep on a client's lock, so ask again, until it is granted or
    // the caller is interrupted.
    // The poll interval bounds how late an interrupt is seen; no cross-thread cancel needed.
    timer.expires_after(lock_poll);
    std::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (sc.co.stop.stop_requested()) co_return errno_code(EINTR);
  }
  co_return client::error{};
}

// ---- the FUSE-facing shims ---------------------------------------------------------------

struct ops_impl {
  static filesystem* self(fuse_req_t req) {
    return static_cast<filesystem*>(fuse_req_userdata(req));
  }
  template <class T>
  static std::shared_ptr<T> handle(const fuse_file_info* fi) {
    if (fi == nullptr || fi->fh == 0) return nullptr;
    return *reinterpret_cast<std::shared_ptr<T>*>(fi->fh);
  }
  using open_file = filesystem::open_file;
  using dir_handle = filesystem::dir_handle;
  using scope = filesystem::scope;
  static constexpr bool repeatable = true, once = false;

  /// Starts `body(scope&)` for `req` on the I/O context. `body` owns copies of every argument
  /// (FUSE's pointers are valid only during the callback).
  template <class Body>
  static void start(fuse_req_t req, bool idempotent, Body body) {
    auto* fs = self(req);
    fs->spawn(req, fs->serve(req, idempotent, std::move(body)));
  }

  static void lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
    start(req, repeatable, [fs = self(req), req, parent, n = std::string(name)](scope& sc) {
      return fs->lookup(sc, req, parent, n);
    });
  }
  static void forget(fuse_req_t req, fuse_ino_t ino, std::uint64_t n) {
    self(req)->forget_one(ino, n);
    fuse_reply_none(req);
  }
  static void forget_multi(fuse_req_t req, std::size_t count, fuse_forget_data* forgets) {
    for (std::size_t i = 0; i < count; ++i)
      self(req)->forget_one(forgets[i].ino, forgets[i].nlookup);
    fuse_reply_none(req);
  }
  static void getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
    start(req, repeatable, [fs = self(req), req, ino, h = handle<open_file>(fi)](scope& sc) {
      return fs->getattr(sc, req, ino, h);
    });
  }
  static void setattr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set,
                      fuse_file_info* fi) {
    start(req, repeatable,
          [fs = self(req), req, ino, st = *attr, to_set, h = handle<open_file>(fi)](scope& sc) {
            return fs->setattr(sc, req, ino, st, to_set, h);
          });
  }
  static void readlink(fuse_req_t req, fuse_ino_t ino) {
    start(req, repeatable,
          [fs = self(req), req, ino](scope& sc) { return fs->readlink(sc, req, ino); });
  }
  static void mknod(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, dev_t rdev) {
    start(req, once, [fs = self(req), req, parent, n = std::string(name), mode, rdev](scope& sc) {
      return fs->mknod(sc, req, parent, n, mode, rdev);
    });
  }
  static void mkdir(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode) {
    start(req, once, [fs = self(req), req, parent, n = std::string(name), mode](scope& sc) {
      return fs->mkdir(sc, req, parent, n, mode);
    });
  }
  static void unlink(fuse_req_t req, fuse_ino_t parent, const char* name) {
    start(req, once, [fs = self(req), req, parent, n = std::string(name)](scope& sc) {
      return fs->remove(sc, req, parent, n, false);
    });
  }
  static void rmdir(fuse_req_t req, fuse_ino_t parent, const char* name) {
    start(req, once, [fs = self(req), req, parent, n = std::string(name)](scope& sc) {
      return fs->remove(sc, req, parent, n, true);
    });
  }
  static void symlink(fuse_req_t req, const char* target, fuse_ino_t parent, const char* name) {
    start(req, once,
          [fs = self(req), req, t = std::string(target), parent, n = std::string(name)](scope& sc) {
            return fs->symlink(sc, req, t, parent, n);
          });
  }
  static void rename(fuse_req_t req, fuse_ino_t parent, const char* name, fuse_ino_t newparent,
                     const char* newname, unsigned flags) {
    start(req, once,
          [fs = self(req), req, parent, n = std::string(name), newparent, nn = std::string(newname),
           flags](scope& sc) { return fs->rename(sc, req, parent, n, newparent, nn, flags); });
  }
  static void link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char* newname) {
    start(req, once, [fs = self(req), req, ino, newparent, nn = std::string(newname)](scope& sc) {
      return fs->link(sc, req, ino, newparent, nn);
    });
  }
  static void open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
    start(req, repeatable,
          [fs = self(req), req, ino, f = *fi](scope& sc) { return fs->open(sc, req, ino, f); });
  }
  static void create(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode,
                     fuse_file_info* fi) {
    start(req, once,
          [fs = self(req), req, parent, n = std::string(name), mode, f = *fi](scope& sc) {
            return fs->create(sc, req, parent, n, mode, f);
          });
  }
  static void read(fuse_req_t req, fuse_ino_t, std::size_t size, off_t off, fuse_file_info* fi) {
    start(req, repeatable, [fs = self(req), req, h = handle<open_file>(fi), size, off](scope& sc) {
      return fs->read(sc, req, h, size, off);
    });
  }
  static void write(fuse_req_t req, fuse_ino_t, const char* buf, std::size_t size, off_t off,
                    fuse_file_info* fi) {
    const auto* b = reinterpret_cast<const std::byte*>(buf);
    // A write at an offset may be sent twice: the second lands the same bytes at the same place.
    start(
        req, repeatable,
        [fs = self(req), req, h = handle<open_file>(fi), data = std::vector<std::byte>(b, b + size),
         off](scope& sc) { return fs->write(sc, req, h, data, off); });
  }
  static void flush(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
    start(req, repeatable,
          [fs = self(req), req, h = handle<open_file>(fi), owner = fi->lock_owner](scope& sc) {
            return fs->flush(sc, req, h, owner);
          });
  }
  static void release(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
    // The fid is clunked by its last user (a request still in flight, if any).
    self(req)->drop_handle(fi->fh);
    fuse_reply_err(req, 0);
  }
  static void fsync(fuse_req_t req, fuse_ino_t, int datasync, fuse_file_info* fi) {
    start(req, repeatable, [fs = self(req), req, h = handle<open_file>(fi), datasync](scope& sc) {
      return fs->fsync(sc, req, h, datasync);
    });
  }
  static void opendir(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
    // The listing is read at the first readdir; nothing to ask the server yet.
    fi->fh = self(req)->keep_handle(std::make_shared<dir_handle>());
    if (fuse_reply_open(req, fi) != 0) self(req)->drop_handle(fi->fh);
  }
  static void readdir(fuse_req_t req, fuse_ino_t ino, std::size_t size, off_t off,
                      fuse_file_info* fi) {
    start(req, repeatable,
          [fs = self(req), req, ino, d = handle<dir_handle>(fi), size, off](scope& sc) {
            return fs->readdir(sc, req, ino, d, size, off, false);
          });
  }
  static void readdirplus(fuse_req_t req, fuse_ino_t ino, std::size_t size, off_t off,
                          fuse_file_info* fi) {
    start(req, repeatable,
          [fs = self(req), req, ino, d = handle<dir_handle>(fi), size, off](scope& sc) {
            return fs->readdir(sc, req, ino, d, size, off, true);
          });
  }
  static void releasedir(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
    self(req)->drop_handle(fi->fh);
    fuse_reply_err(req, 0);
  }
  static void fsyncdir(fuse_req_t req, fuse_ino_t, int, fuse_file_info*) {
    // Directory changes are synchronous on the server: each 9P request that made one has been
    // answered.
    fuse_reply_err(req, 0);
  }
  static void statfs(fuse_req_t req, fuse_ino_t ino) {
    start(req, repeatable,
          [fs = self(req), req, ino](scope& sc) { return fs->statfs(sc, req, ino); });
  }
  static void setxattr(fuse_req_t req, fuse_ino_t ino, const char* name, const char* value,
                       std::size_t size, int flags) {
    if (size == 0) return (void)fuse_reply_err(req, EINVAL);  // 9P cannot tell it from removal
    const auto* b = reinterpret_cast<const std::byte*>(value);
    start(req, once,
          [fs = self(req), req, ino, n = std::string(name), v = std::vector<std::byte>(b, b + size),
           flags](scope& sc) { return fs->setxattr(sc, req, ino, n, v, flags); });
  }
  static void getxattr(fuse_req_t req, fuse_ino_t ino, const char* name, std::size_t size) {
    start(req, repeatable, [fs = self(req), req, ino, n = std::string(name), size](scope& sc) {
      return fs->getxattr(sc, req, ino, n, size, false);
    });
  }
  static void listxattr(fuse_req_t req, fuse_ino_t ino, std::size_t size) {
    start(req, repeatable, [fs = self(req), req, ino, size](scope& sc) {
      return fs->getxattr(sc, req, ino, "", size, true);
    });
  }
  static void removexattr(fuse_req_t req, fuse_ino_t ino, const char* name) {
    start(req, once, [fs = self(req), req, ino, n = std::string(name)](scope& sc) {
      return fs->setxattr(sc, req, ino, n, {}, XATTR_REPLACE);
    });
  }
  static void getlk(fuse_req_t req, fuse_ino_t, fuse_file_info* fi, struct flock* lock) {
    start(req, repeatable,
          [fs = self(req), req, h = handle<open_file>(fi), lk = *lock,
           owner = fi->lock_owner](scope& sc) { return fs->getlk(sc, req, h, lk, owner); });
  }
  static void setlk(fuse_req_t req, fuse_ino_t, fuse_file_info* fi, struct flock* lock, int sleep) {
    start(req, repeatable,
          [fs = self(req), req, h = handle<open_file>(fi), lk = *lock, owner = fi->lock_owner,
           wait = sleep != 0](scope& sc) { return fs->setlk(sc, req, h, lk, owner, wait); });
  }
  static void flock(fuse_req_t req, fuse_ino_t, fuse_file_info* fi, int op) {
    // flock(2) locks belong to the open file, as the server's locks on one fid do: a whole-file
    // lock on this handle's fid.
    struct flock lk {};
    lk.l_whence = SEEK_SET;
    lk.l_type = (op & LOCK_UN) ? F_UNLCK : (op & LOCK_SH) ? F_RDLCK : F_WRLCK;
    start(req, repeatable,
          [fs = self(req), req, h = handle<open_file>(fi), lk, owner = fi->lock_owner,
           wait = !(op & LOCK_NB)](scope& sc) { return fs->setlk(sc, req, h, lk, owner, wait); });
  }
  static void fallocate(fuse_req_t req, fuse_ino_t, int, off_t, off_t, fuse_file_info*) {
    fuse_reply_err(req, EOPNOTSUPP);  // 9P has no message for it
  }
  static void init(void* userdata, fuse_conn_info* conn) {
    auto* fs = static_cast<filesystem*>(userdata);
    conn->max_write = filesystem::io_size(*fs->sess());
    conn->max_read = conn->max_write;  // as the max_read mount option says
    conn->max_readahead = conn->max_write;
    if (fs->dotl()) {
      if (conn->capable & FUSE_CAP_POSIX_LOCKS) conn->want |= FUSE_CAP_POSIX_LOCKS;
      if (conn->capable & FUSE_CAP_FLOCK_LOCKS) conn->want |= FUSE_CAP_FLOCK_LOCKS;
    } else {
      // No locks on the wire: the kernel's own, local ones.
      conn->want &= ~(FUSE_CAP_POSIX_LOCKS | FUSE_CAP_FLOCK_LOCKS);
    }
    conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;  // writes go to the server as they are made
    if (conn->capable & FUSE_CAP_READDIRPLUS) conn->want |= FUSE_CAP_READDIRPLUS;
  }
};

const fuse_lowlevel_ops& filesystem::operations() {
  static const fuse_lowlevel_ops ops = [] {
    fuse_lowlevel_ops o{};
    o.init = &ops_impl::init;
    o.lookup = &ops_impl::lookup;
    o.forget = &ops_impl::forget;
    o.forget_multi = &ops_impl::forget_multi;
    o.getattr = &ops_impl::getattr;
    o.setattr = &ops_impl::setattr;
    o.readlink = &ops_impl::readlink;
    o.mknod = &ops_impl::mknod;
    o.mkdir = &ops_impl::mkdir;
    o.unlink = &ops_impl::unlink;
    o.rmdir = &ops_impl::rmdir;
    o.symlink = &ops_impl::symlink;
    o.rename = &ops_impl::rename;
    o.link = &ops_impl::link;
    o.open = &ops_impl::open;
    o.create = &ops_impl::create;
    o.read = &ops_impl::read;
    o.write = &ops_impl::write;
    o.flush = &ops_impl::flush;
    o.release = &ops_impl::release;
    o.fsync = &ops_impl::fsync;
    o.opendir = &ops_impl::opendir;
    o.readdir = &ops_impl::readdir;
    o.readdirplus = &ops_impl::readdirplus;
    o.releasedir = &ops_impl::releasedir;
    o.fsyncdir = &ops_impl::fsyncdir;
    o.statfs = &ops_impl::statfs;
    o.setxattr = &ops_impl::setxattr;
    o.getxattr = &ops_impl::getxattr;
    o.listxattr = &ops_impl::listxattr;
    o.removexattr = &ops_impl::removexattr;
    o.getlk = &ops_impl::getlk;
    o.setlk = &ops_impl::setlk;
    o.flock = &ops_impl::flock;
    o.fallocate = &ops_impl::fallocate;
    return o;
  }();
  return ops;
}

}  // namespace ninep::mount
