// SPDX-License-Identifier: MIT
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstring>
#include <mutex>
#include <ninep/fs/local.hpp>
#include <ninep/server/users.hpp>
#include <ninep/wire/dotl.hpp>
#include <ninep/wire/types.hpp>
#include <optional>
#include <unordered_map>

#include "credentials.hpp"
#include "posix.hpp"

namespace ninep::fs {

std::string local_setup_error::message() const {
  std::string m = dir.empty() ? std::string("local_fs") : dir;
  m += ": ";
  m += reason;
  if (code) {
    m += " (";
    m += code.message();
    m += ")";
  }
  return m;
}

// ---- inode_map ----

std::uint16_t inode_map::device_index_locked(std::uint64_t dev) {
  if (auto it = devices_.find(dev); it != devices_.end()) return it->second;
  if (devices_.size() >= overflow_index) return overflow_index;
  const auto index = static_cast<std::uint16_t>(devices_.size());
  devices_.emplace(dev, index);
  return index;
}

std::uint16_t inode_map::device_index(std::uint64_t dev) {
  std::lock_guard lk(mu_);
  return device_index_locked(dev);
}

std::uint64_t inode_map::path(std::uint64_t dev, std::uint64_t ino) {
  std::lock_guard lk(mu_);
  const std::uint64_t index = device_index_locked(dev);
  if (index != overflow_index && ino < (std::uint64_t{1} << ino_bits)) {
    return index << ino_bits | ino;
  }
  // Rare: huge inode numbers or more than 65535 devices. Hand out sequential paths in the
  // reserved index so they can never collide with the direct ones.
  auto [it, inserted] = overflow_.try_emplace({dev, ino}, 0);
  if (inserted) {
    it->second = std::uint64_t{overflow_index} << ino_bits | (overflow_.size() - 1);
  }
  return it->second;
}

namespace {

using detail::fail_errno;
using detail::fail_with;
using detail::proc_path;
using detail::retry_eintr;
using detail::unique_fd;
using wire::valid_name;

/// One file reached by walk: its O_PATH|O_NOFOLLOW descriptor (immutable) and, for remove and
/// rename, where we last knew it to be (guarded by mu). Shared by nodes (clone, and walks of
/// the same name: see cached_child) and by children (as their parent), so it holds no
/// open-file state.
struct entry {
  unique_fd fd;
  std::uint64_t dev = 0, ino = 0;
  mode_t type = 0;  // S_IFMT bits

  mutable std::mutex mu;
  std::shared_ptr<entry> parent;  // null at an export root, or when unknown
  std::string name;
  // The entries walks from this directory made, by name (guarded by mu). Weak: an entry lives
  // only while nodes or children use it; dead ones are swept when the table doubles.
  std::unordered_map<std::string, std::weak_ptr<entry>> children;
  std::size_t sweep_at = 64;

  bool is_dir() const noexcept { return S_ISDIR(type); }
  bool is_symlink() const noexcept { return S_ISLNK(type); }
};
using entry_ptr = std::shared_ptr<entry>;

struct export_root {
  std::string name, dir, real;
  entry_ptr root;
  bool is_root(const entry& e) const noexcept { return e.dev == root->dev && e.ino == root->ino; }
};

/// A 4-byte mutex (std::mutex takes 40): every fid has a node, and a client may hold a hundred
/// thousand of them. Contention is rare (two requests on one fid at once), so no spinning.
class small_mutex {
 public:
  void lock() noexcept {
    while (state_.exchange(1, std::memory_order_acquire) != 0)
      state_.wait(1, std::memory_order_relaxed);
  }
  void unlock() noexcept {
    state_.store(0, std::memory_order_release);
    state_.notify_one();
  }

 private:
  std::atomic<int> state_{0};
};

/// A node: an entry plus the state of one fid's open (the open file description).
class local_node final : public server::node {
 public:
  local_node(std::shared_ptr<const export_root> x, entry_ptr e) noexcept
      : exp(std::move(x)), ent(std::move(e)) {}
  ~local_node() override {
    // Closing the open file description also releases its OFD locks.
    const int fd = open_fd.load();
    if (fd >= 0) ::close(fd);
  }

  const std::shared_ptr<const export_root> exp;  // shared: a node may outlive its local_fs
  const entry_ptr ent;
  std::atomic<int> open_fd{-1};  // set once by open()/create(), closed by the destructor
  int open_flags = 0;            // written before open_fd is published
  // Serializes open(), and readdir's lseek + getdents64 on open_fd. One lock for both: a
  // readdir needs the node open, so the two never wait for each other in practice.
  small_mutex mu;
};

std::uint32_t qid_version(std::int64_t mtime_sec, std::int64_t mtime_nsec, std::uint64_t size) {
  std::uint64_t h = static_cast<std::uint64_t>(mtime_sec) * 0x9e3779b97f4a7c15ULL;
  h ^= static_cast<std::uint64_t>(mtime_nsec) * 0xc2b2ae3d27d4eb4fULL;
  h ^= size * 0x165667b19e3779f9ULL;
  h ^= h >> 29;
  return static_cast<std::uint32_t>(h ^ (h >> 32));
}

std::uint8_t qid_type(mode_t mode) {
  if (S_ISDIR(mode)) return wire::qt::dir;
  if (S_ISLNK(mode)) return wire::qt::symlink;
  return wire::qt::file;
}

result<struct stat> stat_fd(int fd) {
  struct stat st {};
  if (fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0) return fail_errno();
  return st;
}

/// An entry for an O_PATH descriptor we just opened.
result<entry_ptr> make_entry(unique_fd fd, entry_ptr parent, std::string name) {
  auto st = stat_fd(fd.get());
  if (!st) return fail(st.error());
  auto e = std::make_shared<entry>();
  e->fd = std::move(fd);
  e->dev = st->st_dev;
  e->ino = st->st_ino;
  e->type = st->st_mode & S_IFMT;
  e->parent = std::move(parent);
  e->name = std::move(name);
  return e;
}

/// The entry an earlier walk from `dir` to `name` made, if it is still in use and `name` still
/// names its inode (the host may have renamed or replaced the file since); null otherwise.
/// Walks of one file then share its descriptor, however many fids a client walks there.
/// Confinement holds as for a fresh walk: the entry was opened beneath `dir`, and the check
/// follows no symlink (fstatat also needs search permission on `dir`, as the open would).
entry_ptr cached_child(entry& dir, const std::string& name) {
  entry_ptr c;
  {
    std::lock_guard lk(dir.mu);
    auto it = dir.children.find(name);
    if (it == dir.children.end()) return nullptr;
    c = it->second.lock();
  }
  if (!c) return nullptr;
  {
    std::lock_guard lk(c->mu);  // renamed away since (remove and rename use parent and name)
    if (c->parent.get() != &dir || c->name != name) return nullptr;
  }
  struct stat st {};
  if (fstatat(dir.fd.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return nullptr;
  if (st.st_dev != c->dev || st.st_ino != c->ino) return nullptr;
  return c;
}

/// Records `child`, just walked to from `dir` as `name`, for cached_child().
void remember_child(entry& dir, const std::string& name, const entry_ptr& child) {
  std::lock_guard lk(dir.mu);
  dir.children[name] = child;
  if (dir.children.size() >= dir.sweep_at) {
    std::erase_if(dir.children, [](const auto& kv) { return kv.second.expired(); });
    dir.sweep_at = std::max<std::size_t>(64, 2 * dir.children.size());
  }
}

/// Descriptors that clients' walks and opens leave free for the server itself: accepting
/// connections, logging, and the sanitizer runtime, which needs pipe(2) to check memory (GCC's
/// UBSan reports an "invalid vptr" when it cannot make one). Without this reserve one client
/// walking thousands of distinct files took every descriptor of the process.
constexpr rlim_t fd_reserve = 64;

/// `fd`, fresh from an open(2) for a client (errno set if negative), unless fewer than
/// fd_reserve descriptors (a quarter of a small limit) would be left: EMFILE then. The kernel
/// hands out the lowest free number, so every descriptor below `fd` is in use.
result<unique_fd> client_fd(long fd) {
  if (fd < 0) return fail_errno();
  unique_fd owned(static_cast<int>(fd));
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
      static_cast<rlim_t>(fd) + std::min(fd_reserve, rl.rlim_cur / 4) >= rl.rlim_cur) {
    return fail_with(EMFILE);
  }
  return owned;
}

/// Opens `name` in directory `dir` as O_PATH without following a symlink anywhere.
result<unique_fd> open_child(int dir, const std::string& name) {
  open_how how{};
  how.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS;
  // openat2 answers EAGAIN when a rename or mount anywhere on the host raced with it: under
  // rename churn (builds, other clients) 8 tries were not enough and clients saw EAGAIN opens.
  for (int attempt = 0; attempt < 256; ++attempt) {
    long fd = syscall(SYS_openat2, dir, name.c_str(), &how, sizeof how);
    if (fd < 0 && (errno == EAGAIN || errno == EINTR)) {  // openat2 asks to retry
      if (attempt >= 8) sched_yield();
      continue;
    }
    if (fd >= 0 || errno != ENOSYS) return client_fd(fd);
    // Kernels before 5.6: a single validated name with O_NOFOLLOW cannot leave `dir`.
    return client_fd(openat(dir, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  }
  return fail_with(EAGAIN);
}

/// Whether the directory `fd` leads back to the export root through "..".
result<void> check_beneath(const export_root& x, int fd) {
  unique_fd cur(fcntl(fd, F_DUPFD_CLOEXEC, 0));
  if (!cur) return fail_errno();
  for (int depth = 0; depth < 4096; ++depth) {
    auto st = stat_fd(cur.get());
    if (!st) return fail(st.error());
    if (st->st_dev == x.root->dev && st->st_ino == x.root->ino) return {};
    unique_fd up(openat(cur.get(), "..", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!up) return fail_errno();
    auto ust = stat_fd(up.get());
    if (!ust) return fail(ust.error());
    if (ust->st_dev == st->st_dev && ust->st_ino == st->st_ino) break;  // the host's "/"
    cur = std::move(up);
  }
  return fail_with(EACCES);
}

/// Whether `name` in `dir` is still the inode of `e` (for remove/rename through a node).
result<void> still_named(const entry& dir, const std::string& name, const entry& e) {
  struct stat st {};
  if (fstatat(dir.fd.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return fail_with(errno == ENOENT ? ESTALE : errno);
  }
  if (st.st_dev != e.dev || st.st_ino != e.ino) return fail_with(ESTALE);
  return {};
}

/// Best effort: gives a new file the group the client asked for. EPERM (the caller is not a
/// member) is ignored: the file keeps the group the host gave it, as on a local filesystem
/// when a process is not allowed to choose.
result<void> apply_gid(int fd, std::uint32_t gid, gid_t current) {
  if (gid == wire::no_id || gid == current) return {};
  if (fchownat(fd, "", static_cast<uid_t>(-1), gid, AT_EMPTY_PATH) != 0 && errno != EPERM) {
    return fail_errno();
  }
  return {};
}

/// Gives a file we just made the permission bits the client asked for. The client already
/// applied its caller's umask (and default ACL); the host's umask, which open/mkdir/mknod
/// apply, is the server process's and must not take bits away, nor may the library depend on
/// what its user's process has set. mkdir also drops setuid/setgid, and open may drop setgid.
/// Bits are only ever added: a directory keeps the setgid it inherited from its parent. chmod
/// keeps the kernel's rules (setgid is cleared unless the caller is in the file's group or has
/// CAP_FSETID), and, coming after apply_gid, a setuid/setgid bit is not lost to the chown.
/// `fd` is an O_PATH descriptor of the new file, never a symlink.
result<void> apply_mode(int fd, std::uint32_t want) {
  auto st = stat_fd(fd);
  if (!st) return fail(st.error());
  const mode_t have = st->st_mode & 07777;
  const mode_t target = have | (static_cast<mode_t>(want) & 07777);
  if (target == have) return {};
  if (chmod(proc_path(fd).c_str(), target) != 0) return fail_errno();
  return {};
}

// Flags never passed to the kernel on open: O_CREAT is create()'s business, the others would
// change the server's behaviour (controlling tty, SIGIO, alignment rules), and O_NOFOLLOW would
// make the open of /proc/self/fd/N itself fail. QEMU strips the same (dotl_to_open_flags).
constexpr int tmpfile_bit = O_TMPFILE & ~O_DIRECTORY;
constexpr int stripped_flags =
    O_CREAT | O_EXCL | O_NOCTTY | O_ASYNC | O_DIRECT | O_NOFOLLOW | O_PATH | tmpfile_bit;

bool writes(int flags) noexcept { return (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC); }

/// Whether the server may open a file of type `type` (S_IFMT bits) for a client: only regular
/// files and directories. A device node would give the client the host's device (a disk node
/// reads the raw disk: QEMU's CVE-2023-2861), a FIFO without a peer blocks open(2) and with
/// it the worker, and a socket cannot be opened at all. v9fs never asks: it handles FIFOs,
/// devices and sockets on the client side, as a local filesystem's special files, so this
/// costs kernel mounts nothing. ENXIO ("no such device or address") is what open(2) itself
/// returns for a socket or a device without a driver: the file is there, but nothing behind it
/// can be reached this way; EACCES or EPERM would suggest a chmod or chown could help.
result<void> check_openable(mode_t type) {
  if (S_ISLNK(type)) return fail_with(ELOOP);
  if (!S_ISREG(type) && !S_ISDIR(type)) return fail_with(ENXIO);
  return {};
}

/// Whether a device's files can be served on the network thread (see local_fs::try_read).
enum class device_speed : std::uint8_t {
  memory,  ///< tmpfs, ramfs: data and inodes live in memory
  local,   ///< a local disk filesystem: page-cache hits via RWF_NOWAIT, inodes in memory
  remote,  ///< network or FUSE filesystems: anything may wait on another machine or process
};

device_speed classify(int fd) noexcept {
  struct statfs sf {};
  if (::fstatfs(fd, &sf) != 0) return device_speed::remote;
  switch (static_cast<std::uint64_t>(sf.f_type)) {
    case 0x01021994:  // TMPFS_MAGIC
    case 0x858458f6:  // RAMFS_MAGIC
      return device_speed::memory;
    case 0x6969:      // NFS
    case 0x65735546:  // FUSE
    case 0x517b:      // SMB
    case 0xff534d42:  // CIFS
    case 0xfe534d42:  // SMB2
    case 0x00c36400:  // CEPH
    case 0x01021997:  // V9FS
    case 0x5346414f:  // AFS
    case 0x73757245:  // CODA
    case 0x47504653:  // GPFS
    case 0x0bd00bd0:  // LUSTRE
      return device_speed::remote;
    default:
      return device_speed::local;
  }
}

}  // namespace

// ---- local_fs::state ----

struct local_fs::state {
  local_config config;
  // exports[0] is the default export when one is configured.
  std::vector<std::shared_ptr<const export_root>> exports;
  bool has_default = false;
  inode_map inodes;
  server::user_db users;
  /// The process's own identity, taken once: a request whose identity is this one runs
  /// without switching.
  server::user self = server::user_db::self();

  local_node* cast(server::node& n) const noexcept { return dynamic_cast<local_node*>(&n); }

  std::mutex speed_mu;
  std::unordered_map<std::uint64_t, device_speed> speeds;
  /// The speed class of device `dev`, learned from `fd` (a file on it) the first time.
  device_speed speed_of(std::uint64_t dev, int fd) {
    std::lock_guard lock(speed_mu);
    auto it = speeds.find(dev);
    if (it == speeds.end()) it = speeds.emplace(dev, classify(fd)).first;
    return it->second;
  }

  wire::qid qid_of(const struct stat& st) {
    return {
        qid_type(st.st_mode),
        qid_version(st.st_mtim.tv_sec, st.st_mtim.tv_nsec, static_cast<std::uint64_t>(st.st_size)),
        inodes.path(st.st_dev, st.st_ino)};
  }

  result<wire::qid> qid_of_fd(int fd) {
    auto st = stat_fd(fd);
    if (!st) return fail(st.error());
    return qid_of(*st);
  }

  /// The qid of the file just made as `name` in `dir`, after giving it group `gid` (best
  /// effort) and then, unless it is a symlink, the permission bits `mode` (apply_mode).
  result<wire::qid> finish_new(const entry& dir, const std::string& name, std::uint32_t gid,
                               std::optional<std::uint32_t> mode) {
    auto fd = open_child(dir.fd.get(), name);
    if (!fd) return fail(fd.error());
    auto st = stat_fd(fd->get());
    if (!st) return fail(st.error());
    if (auto r = apply_gid(fd->get(), gid, st->st_gid); !r) return fail(r.error());
    if (mode && !S_ISLNK(st->st_mode)) {
      if (auto r = apply_mode(fd->get(), *mode); !r) return fail(r.error());
    }
    return qid_of(*st);  // neither chown nor chmod changes what a qid is made of
  }

  /// Whether two supplementary group lists give the same access (order, duplicates and the
  /// primary group do not matter: root's getgroups() is [] where getgrouplist() says [0]).
  static bool same_groups(std::vector<std::uint32_t> a, std::vector<std::uint32_t> b,
                          std::uint32_t gid) {
    for (auto* v : {&a, &b}) {
      std::erase(*v, gid);
      std::sort(v->begin(), v->end());
      v->erase(std::unique(v->begin(), v->end()), v->end());
    }
    return a == b;
  }

  /// Runs `f` as the identity of `cx` (multiuser) or as ourselves. The identity is the one
  /// the server decided (uid, gid, groups); one without a gid is looked up by uid or name.
  template <class F>
  auto as_user(const server::context& cx, F&& f) -> decltype(f()) {
    detail::identity_scope scope;
    const server::user& u = cx.user;
    const bool own = u.uid == wire::no_id && u.name.empty();
    if (config.multiuser && !own) {
      auto full = users.complete(u);
      if (!full) return fail(full.error());
      if (full->uid != self.uid || full->gid != self.gid ||
          !same_groups(full->groups, self.groups, self.gid)) {
        detail::credentials c{full->uid, full->gid, {full->groups.begin(), full->groups.end()}};
        if (auto r = scope.enter(c); !r) return fail(r.error());
      }
    }
    return f();
  }

  /// Resolves `n` (and checks it is one of ours) then runs `f(node&)` as the user.
  template <class F>
  auto on(const server::context& cx, server::node& n, F&& f) -> decltype(f(*cast(n))) {
    local_node* ln = cast(n);
    if (ln == nullptr) return fail_with(EINVAL);
    return as_user(cx, [&] { return f(*ln); });
  }
};

local_fs::local_fs(std::unique_ptr<state> s) : s_(std::move(s)), inodes_(&s_->inodes) {}
local_fs::~local_fs() = default;

tl::expected<std::unique_ptr<local_fs>, local_setup_error> local_fs::make(const local_config& c) {
  using bad = tl::unexpected<local_setup_error>;
  auto s = std::make_unique<state>();
  s->config = c;
  if (c.multiuser && geteuid() != 0) {
    return bad({errno_code(EPERM), "", "multiuser mode needs the server to run as root"});
  }
  std::vector<local_export> all;
  if (!c.default_dir.empty()) {
    all.push_back({"", c.default_dir});
    s->has_default = true;
  }
  for (const auto& e : c.exports) {
    if (e.name.empty()) return bad({errno_code(EINVAL), e.dir, "export has an empty name"});
    for (const auto& o : c.exports) {
      if (&o != &e && o.name == e.name) {
        return bad({errno_code(EINVAL), e.dir, "export name \"" + e.name + "\" used twice"});
      }
    }
    all.push_back(e);
  }
  if (all.empty()) return bad({errno_code(EINVAL), "", "no directory to export"});
  for (const auto& e : all) {
    if (e.dir.empty()) return bad({errno_code(EINVAL), e.dir, "empty directory path"});
    // The administrator's path may contain symlinks: it is configuration, not client input.
    unique_fd fd(::open(e.dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!fd) {
      const int err = errno;
      return bad({errno_code(err), e.dir,
                  err == ENOTDIR ? "not a directory" : "cannot open the directory"});
    }
    auto ent = make_entry(std::move(fd), nullptr, "");
    if (!ent) return bad({ent.error(), e.dir, "cannot stat the directory"});
    // Every I/O open goes through /proc/self/fd; check it reaches the same directory.
    unique_fd again(::open(proc_path((*ent)->fd.get()).c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!again) return bad({errno_code(errno), e.dir, "/proc/self/fd is not usable"});
    auto st = stat_fd(again.get());
    if (!st || st->st_ino != (*ent)->ino || st->st_dev != (*ent)->dev) {
      return bad({errno_code(EIO), e.dir, "/proc/self/fd does not reach the directory"});
    }
    char* real = realpath(e.dir.c_str(), nullptr);
    if (real == nullptr) return bad({errno_code(errno), e.dir, "cannot resolve the path"});
    std::string r(real);
    free(real);
    s->exports.push_back(std::make_shared<const export_root>(
        export_root{e.name, e.dir, std::move(r), std::move(*ent)}));
  }
  for (auto& x : s->exports) s->inodes.device_index(x->root->dev);
  return std::unique_ptr<local_fs>(new local_fs(std::move(s)));
}

// ---- tree ----

result<server::walked> local_fs::attach(const server::context& cx) {
  const std::string& aname = cx.user.aname;
  std::shared_ptr<const export_root> found;
  if (aname.empty()) {
    if (s_->has_default) found = s_->exports.front();
  } else {
    std::string_view a(aname);
    while (a.size() > 1 && a.back() == '/') a.remove_suffix(1);
    for (const auto& x : s_->exports) {
      if ((!x->name.empty() && a == x->name) || a == x->dir || a == x->real) {
        found = x;
        break;
      }
    }
    // go-p9p's 9pr always attaches with "/": the default export, unless one is "/" itself.
    if (found == nullptr && a == "/" && s_->has_default) found = s_->exports.front();
  }
  if (found == nullptr) return fail(make_error_code(errc::unknown_aname));
  return s_->as_user(cx, [&]() -> result<server::walked> {
    auto q = s_->qid_of_fd(found->root->fd.get());
    if (!q) return fail(q.error());
    return server::walked{std::make_shared<local_node>(found, found->root), *q};
  });
}

result<server::walked> local_fs::walk(const server::context& cx, server::node& from,
                                      std::string_view name) {
  return s_->on(cx, from, [&](local_node& n) -> result<server::walked> {
    const export_root& x = *n.exp;
    const entry_ptr& e = n.ent;
    if (!e->is_dir()) return fail_with(ENOTDIR);
    auto walked_to = [&](entry_ptr to) -> result<server::walked> {
      auto q = s_->qid_of_fd(to->fd.get());
      if (!q) return fail(q.error());
      return server::walked{std::make_shared<local_node>(n.exp, std::move(to)), *q};
    };
    if (name == ".") return walked_to(e);
    if (name == "..") {
      if (x.is_root(*e)) return walked_to(x.root);
      // Search permission on `e` is checked by the kernel here, as for any lookup.
      unique_fd up(openat(e->fd.get(), "..", O_PATH | O_DIRECTORY | O_CLOEXEC));
      if (!up) return fail_errno();
      auto st = stat_fd(up.get());
      if (!st) return fail(st.error());
      if (st->st_dev == x.root->dev && st->st_ino == x.root->ino) return walked_to(x.root);
      entry_ptr parent;
      {
        std::lock_guard lk(e->mu);
        parent = e->parent;
      }
      // Usually the parent we walked through: it is inside the export by construction.
      if (parent && parent->dev == st->st_dev && parent->ino == st->st_ino) {
        return walked_to(parent);
      }
      // The host moved something: only accept a parent that still leads to the root.
      if (auto r = check_beneath(x, up.get()); !r) return fail(r.error());
      auto pe = make_entry(std::move(up), nullptr, "");  // name unknown: remove gives ESTALE
      if (!pe) return fail(pe.error());
      return walked_to(std::move(*pe));
    }
    if (!valid_name(name)) return fail_with(EINVAL);
    std::string nm(name);
    if (auto c = cached_child(*e, nm)) return walked_to(std::move(c));
    auto fd = open_child(e->fd.get(), nm);
    if (!fd) return fail(fd.error());
    auto child = make_entry(std::move(*fd), e, nm);
    if (!child) return fail(child.error());
    remember_child(*e, nm, *child);
    return walked_to(std::move(*child));
  });
}

result<server::node_ptr> local_fs::clone(const server::context&, const server::node_ptr& n) {
  // A fresh node on the same entry: the clone must not share the original's open file.
  local_node* ln = n ? s_->cast(*n) : nullptr;
  if (ln == nullptr) return fail_with(EINVAL);
  return std::make_shared<local_node>(ln->exp, ln->ent);
}

// ---- attributes ----

namespace {

/// Rgetattr attributes from statx, with `valid` saying what statx really filled.
server::attr attr_of(const struct statx& sx, inode_map& inodes) {
  namespace d = wire::dotl;
  server::attr a;
  const std::uint32_t m = sx.stx_mask;
  std::uint64_t v = d::getattr_rdev;
  if ((m & (STATX_TYPE | STATX_MODE)) == (STATX_TYPE | STATX_MODE)) v |= d::getattr_mode;
  if (m & STATX_NLINK) v |= d::getattr_nlink;
  if (m & STATX_UID) v |= d::getattr_uid;
  if (m & STATX_GID) v |= d::getattr_gid;
  if (m & STATX_ATIME) v |= d::getattr_atime;
  if (m & STATX_MTIME) v |= d::getattr_mtime;
  if (m & STATX_CTIME) v |= d::getattr_ctime;
  if (m & STATX_INO) v |= d::getattr_ino;
  if (m & STATX_SIZE) v |= d::getattr_size;
  if (m & STATX_BLOCKS) v |= d::getattr_blocks;
  if (m & STATX_BTIME) v |= d::getattr_btime;
  a.valid = v;
  const std::uint64_t dev = makedev(sx.stx_dev_major, sx.stx_dev_minor);
  a.qid = {qid_type(sx.stx_mode),
           qid_version(sx.stx_mtime.tv_sec, sx.stx_mtime.tv_nsec, sx.stx_size),
           inodes.path(dev, sx.stx_ino)};
  a.mode = sx.stx_mode;
  a.uid = sx.stx_uid;
  a.gid = sx.stx_gid;
  a.nlink = sx.stx_nlink;
  a.rdev = makedev(sx.stx_rdev_major, sx.stx_rdev_minor);
  a.size = sx.stx_size;
  a.blksize = sx.stx_blksize;
  a.blocks = sx.stx_blocks;
  a.atime_sec = static_cast<std::uint64_t>(sx.stx_atime.tv_sec);
  a.atime_nsec = sx.stx_atime.tv_nsec;
  a.mtime_sec = static_cast<std::uint64_t>(sx.stx_mtime.tv_sec);
  a.mtime_nsec = sx.stx_mtime.tv_nsec;
  a.ctime_sec = static_cast<std::uint64_t>(sx.stx_ctime.tv_sec);
  a.ctime_nsec = sx.stx_ctime.tv_nsec;
  if (m & STATX_BTIME) {
    a.btime_sec = static_cast<std::uint64_t>(sx.stx_btime.tv_sec);
    a.btime_nsec = sx.stx_btime.tv_nsec;
  }
  return a;
}

}  // namespace

result<server::attr> local_fs::getattr(const server::context& cx, server::node& node,
                                       std::uint64_t) {
  return s_->on(cx, node, [&](local_node& n) -> result<server::attr> {
    struct statx sx {};
    // The O_PATH descriptor keeps the inode: this works for unlinked files too.
    if (statx(n.ent->fd.get(), "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | AT_STATX_SYNC_AS_STAT,
              STATX_BASIC_STATS | STATX_BTIME, &sx) != 0) {
      return fail_errno();
    }
    return attr_of(sx, s_->inodes);
  });
}

// The fast paths run on the server's network thread, so they only act where nothing can wait:
// files in memory (tmpfs, ramfs), or page-cache hits on local disk filesystems
// (preadv2 RWF_NOWAIT). Network and FUSE filesystems always take the worker path. No
// credentials are switched: reading an open descriptor and statx on our own O_PATH descriptor
// check no permissions.
std::optional<result<std::size_t>> local_fs::try_read(const server::context&, server::node& node,
                                                      std::uint64_t offset,
                                                      std::span<std::byte> out) {
  local_node* n = s_->cast(node);
  if (n == nullptr || offset > static_cast<std::uint64_t>(INT64_MAX)) return std::nullopt;
  const int fd = n->open_fd.load();
  if (fd < 0) return std::nullopt;
  const auto kind = s_->speed_of(n->ent->dev, fd);
  if (kind == device_speed::remote) return std::nullopt;
  iovec iov{out.data(), out.size()};
  const ssize_t got = kind == device_speed::memory
                          ? ::pread(fd, out.data(), out.size(), static_cast<off_t>(offset))
                          : ::preadv2(fd, &iov, 1, static_cast<off_t>(offset), RWF_NOWAIT);
  // Anything but a complete read (EAGAIN: not cached; a short read may be a partly cached
  // range, not end of file) goes to a worker, which gives the exact answer.
  if (got < 0 || static_cast<std::size_t>(got) != out.size()) return std::nullopt;
  return static_cast<std::size_t>(got);
}

std::optional<result<server::attr>> local_fs::try_getattr(const server::context&,
                                                          server::node& node, std::uint64_t) {
  local_node* n = s_->cast(node);
  if (n == nullptr) return std::nullopt;
  if (s_->speed_of(n->ent->dev, n->ent->fd.get()) == device_speed::remote) return std::nullopt;
  struct statx sx {};
  if (statx(n->ent->fd.get(), "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | AT_STATX_DONT_SYNC,
            STATX_BASIC_STATS | STATX_BTIME, &sx) != 0) {
    return std::nullopt;
  }
  return attr_of(sx, s_->inodes);
}

result<void> local_fs::setattr(const server::context& cx, server::node& node,
                               const server::set_attr& a) {
  namespace d = wire::dotl;
  if (s_->config.read_only) return fail_with(EROFS);
  return s_->on(cx, node, [&](local_node& n) -> result<void> {
    const entry& e = *n.ent;
    const int fd = e.fd.get();
    if (a.valid & d::setattr_mode) {
      // Linux has no symlink permissions; chmod through the magic link would reach the link.
      if (e.is_symlink()) return fail_with(EOPNOTSUPP);
      if (chmod(proc_path(fd).c_str(), a.mode & 07777) != 0) return fail_errno();
    }
    if (a.valid & (d::setattr_uid | d::setattr_gid)) {
      const uid_t uid = (a.valid & d::setattr_uid) ? a.uid : static_cast<uid_t>(-1);
      const gid_t gid = (a.valid & d::setattr_gid) ? a.gid : static_cast<gid_t>(-1);
      if (fchownat(fd, "", uid, gid, AT_EMPTY_PATH) != 0) return fail_errno();
    }
    if (a.valid & d::setattr_size) {
      if (a.size > static_cast<std::uint64_t>(INT64_MAX)) return fail_with(EFBIG);
      if (e.is_dir()) return fail_with(EISDIR);
      if (!S_ISREG(e.type)) return fail_with(EINVAL);
      const auto size = static_cast<off_t>(a.size);
      const int ofd = n.open_fd.load();
      // Prefer the fid's own open file: ftruncate needs no permission check beyond the open,
      // which is what a client doing ftruncate on an open (maybe unlinked) file expects.
      if (ofd >= 0 && (n.open_flags & O_ACCMODE) != O_RDONLY) {
        if (retry_eintr([&] { return ftruncate(ofd, size); }) != 0) return fail_errno();
      } else if (retry_eintr([&] { return truncate(proc_path(fd).c_str(), size); }) != 0) {
        return fail_errno();
      }
    }
    if (a.valid & (d::setattr_atime | d::setattr_mtime)) {
      timespec ts[2];
      auto pick = [](bool change, bool given, std::uint64_t sec, std::uint64_t nsec) {
        timespec t{};
        if (!change) {
          t.tv_nsec = UTIME_OMIT;
        } else if (!given) {
          t.tv_nsec = UTIME_NOW;
        } else {
          t.tv_sec = static_cast<time_t>(sec);
          t.tv_nsec = static_cast<long>(nsec);
        }
        return t;
      };
      ts[0] = pick(a.valid & d::setattr_atime, a.valid & d::setattr_atime_set, a.atime_sec,
                   a.atime_nsec);
      ts[1] = pick(a.valid & d::setattr_mtime, a.valid & d::setattr_mtime_set, a.mtime_sec,
                   a.mtime_nsec);
      for (const auto& t : ts) {
        if (t.tv_nsec != UTIME_OMIT && t.tv_nsec != UTIME_NOW &&
            (t.tv_nsec < 0 || t.tv_nsec > 999999999)) {
          return fail_with(EINVAL);
        }
      }
      // AT_EMPTY_PATH acts on the descriptor's inode itself (a symlink stays a symlink).
      if (utimensat(fd, "", ts, AT_EMPTY_PATH) != 0) {
        if (errno != EINVAL || e.is_symlink()) return fail_errno();
        if (utimensat(AT_FDCWD, proc_path(fd).c_str(), ts, 0) != 0) return fail_errno();
      }
    }
    // setattr_ctime alone: the kernel updates ctime on every change; nothing to do.
    return {};
  });
}

result<server::fs_stat> local_fs::statfs(const server::context& cx, server::node& node) {
  return s_->on(cx, node, [&](local_node& n) -> result<server::fs_stat> {
    struct statfs sf {};
    if (fstatfs(n.ent->fd.get(), &sf) != 0) return fail_errno();
    server::fs_stat r;
    // V9FS_MAGIC rather than the host's f_type: the client should not apply host-filesystem
    // specific behaviour to what is a 9P mount (interop note 14).
    r.type = wire::dotl::v9fs_magic;
    r.bsize = static_cast<std::uint32_t>(sf.f_bsize);
    r.blocks = sf.f_blocks;
    r.bfree = sf.f_bfree;
    r.bavail = sf.f_bavail;
    r.files = sf.f_files;
    r.ffree = sf.f_ffree;
    // Both halves as unsigned 32-bit values; sign-extending __val[0] corrupted diod's (#119).
    r.fsid = static_cast<std::uint64_t>(static_cast<std::uint32_t>(sf.f_fsid.__val[0])) |
             static_cast<std::uint64_t>(static_cast<std::uint32_t>(sf.f_fsid.__val[1])) << 32;
    r.namelen = static_cast<std::uint32_t>(sf.f_namelen);
    return r;
  });
}

// ---- open files ----

result<server::opened> local_fs::open(const server::context& cx, server::node& node, int flags) {
  if (s_->config.read_only && writes(flags)) return fail_with(EROFS);
  return s_->on(cx, node, [&](local_node& n) -> result<server::opened> {
    // The type was read from the O_PATH descriptor, whose inode the open below reaches
    // exactly: no swap can turn the checked file into a FIFO or a device in between.
    if (auto ok = check_openable(n.ent->type); !ok) return fail(ok.error());
    std::lock_guard lk(n.mu);
    if (n.open_fd.load() >= 0) return fail_with(EBADF);
    const int f = (flags & ~stripped_flags) | O_CLOEXEC;
    // Reopens exactly the inode walk found, whatever its name has become meanwhile.
    auto fd = client_fd(retry_eintr([&] { return ::open(proc_path(n.ent->fd.get()).c_str(), f); }));
    if (!fd) return fail(fd.error());
    auto q = s_->qid_of_fd(fd->get());
    if (!q) return fail(q.error());
    n.open_flags = f;
    n.open_fd.store(fd->release());
    return server::opened{*q, 0};
  });
}

namespace {

/// Tlcreate/Tcreate: creates `name` in `dir` and opens it with `flags` (no O_CREAT/O_EXCL), or,
/// unless `exclusive`, opens the regular file already there. Never opens a FIFO, device or
/// socket, and never blocks on one: an existing name is first reached as O_PATH, its type
/// checked on that descriptor, and only then that same inode reopened through /proc/self/fd.
struct create_result {
  unique_fd fd;
  bool created = false;  ///< false: an existing regular file was opened
};
result<create_result> create_or_open(int dir, const std::string& name, int flags, bool exclusive,
                                     mode_t mode) {
  // A few rounds: between a failed O_EXCL create and the O_PATH lookup the name may vanish
  // (ENOENT: create again) or be replaced; each round either finishes or sees a change.
  for (int attempt = 0; attempt < 8; ++attempt) {
    unique_fd fd(
        retry_eintr([&] { return openat(dir, name.c_str(), flags | O_CREAT | O_EXCL, mode); }));
    if (fd) return create_result{std::move(fd), true};
    if (errno != EEXIST || exclusive) return fail_errno();
    auto existing = open_child(dir, name);
    if (!existing) {
      if (existing.error() == errno_code(ENOENT)) continue;
      return fail(existing.error());
    }
    auto st = stat_fd(existing->get());
    if (!st) return fail(st.error());
    if (S_ISDIR(st->st_mode)) return fail_with(EISDIR);  // as open(O_CREAT) of a directory
    if (auto ok = check_openable(st->st_mode & S_IFMT); !ok) return fail(ok.error());
    // O_NOFOLLOW off: it would refuse the magic link itself.
    const int reopen = flags & ~O_NOFOLLOW;
    fd.reset(retry_eintr([&] { return ::open(proc_path(existing->get()).c_str(), reopen); }));
    if (!fd) return fail_errno();
    return create_result{std::move(fd), false};
  }
  return fail_with(EAGAIN);
}

}  // namespace

result<server::created> local_fs::create(const server::context& cx, server::node& dir,
                                         std::string_view name, int flags, std::uint32_t mode,
                                         std::uint32_t gid) {
  if (s_->config.read_only) return fail_with(EROFS);
  if (!valid_name(name)) return fail_with(EINVAL);
  return s_->on(cx, dir, [&](local_node& d) -> result<server::created> {
    if (!d.ent->is_dir()) return fail_with(ENOTDIR);
    std::string nm(name);
    // O_NOFOLLOW: an existing symlink under `name` fails with ELOOP instead of creating or
    // opening its target, which may be outside the export.
    const int f = (flags & ~stripped_flags) | O_NOFOLLOW | O_CLOEXEC;
    auto opened = create_or_open(d.ent->fd.get(), nm, f, (flags & O_EXCL) != 0,
                                 static_cast<mode_t>(mode & 07777));
    if (!opened) return fail(opened.error());
    unique_fd fd = std::move(opened->fd);
    // The node's O_PATH descriptor comes from the open file, not the name: same inode.
    unique_fd path_fd(::open(proc_path(fd.get()).c_str(), O_PATH | O_CLOEXEC));
    if (!path_fd) return fail_errno();
    auto st = stat_fd(fd.get());
    if (!st) return fail(st.error());
    // An existing file opened without O_EXCL keeps its group and mode, as with open(2).
    if (opened->created) {
      if (auto r = apply_gid(path_fd.get(), gid, st->st_gid); !r) return fail(r.error());
      if (auto r = apply_mode(path_fd.get(), mode); !r) return fail(r.error());
    }
    auto e = make_entry(std::move(path_fd), d.ent, std::move(nm));
    if (!e) return fail(e.error());
    auto node = std::make_shared<local_node>(d.exp, std::move(*e));
    node->open_flags = f & ~O_NOFOLLOW;
    node->open_fd.store(fd.release());
    return server::created{node, s_->qid_of(*st), 0};
  });
}

result<std::size_t> local_fs::read(const server::context& cx, server::node& node,
                                   std::uint64_t offset, std::span<std::byte> out) {
  if (offset > static_cast<std::uint64_t>(INT64_MAX)) return fail_with(EINVAL);
  return s_->on(cx, node, [&](local_node& n) -> result<std::size_t> {
    const int fd = n.open_fd.load();
    if (fd < 0) return fail_with(EBADF);
    const ssize_t got =
        retry_eintr([&] { return pread(fd, out.data(), out.size(), static_cast<off_t>(offset)); });
    if (got < 0) return fail_errno();
    return static_cast<std::size_t>(got);
  });
}

result<std::size_t> local_fs::write(const server::context& cx, server::node& node,
                                    std::uint64_t offset, std::span<const std::byte> in) {
  if (s_->config.read_only) return fail_with(EROFS);
  if (offset > static_cast<std::uint64_t>(INT64_MAX)) return fail_with(EFBIG);
  return s_->on(cx, node, [&](local_node& n) -> result<std::size_t> {
    const int fd = n.open_fd.load();
    if (fd < 0) return fail_with(EBADF);
    std::size_t done = 0;
    while (done < in.size()) {
      const ssize_t w = retry_eintr([&] {
        return pwrite(fd, in.data() + done, in.size() - done, static_cast<off_t>(offset + done));
      });
      if (w < 0) {
        if (done > 0) break;  // report what was written; the client retries the rest
        return fail_errno();
      }
      if (w == 0) break;
      done += static_cast<std::size_t>(w);
    }
    return done;
  });
}

result<void> local_fs::readdir(const server::context& cx, server::node& node, std::uint64_t cookie,
                               server::dirent_sink& out) {
  if (cookie > static_cast<std::uint64_t>(INT64_MAX)) return fail_with(EINVAL);
  return s_->on(cx, node, [&](local_node& n) -> result<void> {
    const entry& e = *n.ent;
    if (!e.is_dir()) return fail_with(ENOTDIR);
    const int fd = n.open_fd.load();
    if (fd < 0) return fail_with(EBADF);
    const bool at_root = n.exp->is_root(e);
    // The offset of the open directory is shared by every request on this fid: seek and read
    // under one lock. Cookies are the host's d_off values, which the filesystem keeps valid
    // across deletions (ext4 hashes, tmpfs stable offsets), so a client resuming from one
    // neither repeats nor loses the entries that remain.
    std::lock_guard lk(n.mu);
    if (lseek(fd, static_cast<off_t>(cookie), SEEK_SET) < 0) return fail_errno();
    alignas(8) std::byte buf[16384];
    for (;;) {
      const long got = retry_eintr([&] { return syscall(SYS_getdents64, fd, buf, sizeof buf); });
      if (got < 0) return fail_errno();
      if (got == 0) return {};
      // linux_dirent64: d_ino[8] d_off[8] d_reclen[2] d_type[1] d_name[] (NUL-terminated)
      for (long pos = 0; pos + 19 < got;) {
        std::uint64_t ino = 0;
        std::int64_t off = 0;
        std::uint16_t reclen = 0;
        std::uint8_t type = 0;
        std::memcpy(&ino, buf + pos, 8);
        std::memcpy(&off, buf + pos + 8, 8);
        std::memcpy(&reclen, buf + pos + 16, 2);
        std::memcpy(&type, buf + pos + 18, 1);
        if (reclen < 20 || pos + reclen > got) return fail_with(EIO);
        const char* name_start = reinterpret_cast<const char*>(buf + pos + 19);
        const std::string_view name(name_start, strnlen(name_start, reclen - 19u));
        pos += reclen;
        if (name == ".") {
          ino = e.ino;
        } else if (name == ".." && at_root) {
          ino = e.ino;  // never show the inode above the export
        }
        if (type == DT_UNKNOWN && name != "." && name != "..") {
          // Filesystems without d_type: one fstatat for this entry only.
          struct stat st {};
          if (fstatat(fd, std::string(name).c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
            type = static_cast<std::uint8_t>(IFTODT(st.st_mode));
          }
        }
        // qid from the dirent without a stat per entry. The device is the directory's: an
        // entry that is a mount point shows the covered directory's inode here, and walk
        // shows the mounted root. The kernel uses these qids only as d_ino of getdents.
        const std::uint8_t qt = type == DT_DIR   ? wire::qt::dir
                                : type == DT_LNK ? wire::qt::symlink
                                                 : wire::qt::file;
        const wire::qid q{qt, 0, s_->inodes.path(e.dev, ino)};
        if (!out.add(q, static_cast<std::uint64_t>(off), type, name)) return {};
      }
    }
  });
}

result<void> local_fs::fsync(const server::context& cx, server::node& node, bool datasync) {
  return s_->on(cx, node, [&](local_node& n) -> result<void> {
    const int fd = n.open_fd.load();
    if (fd < 0) return fail_with(EBADF);
    if (retry_eintr([&] { return datasync ? fdatasync(fd) : ::fsync(fd); }) != 0) {
      return fail_errno();
    }
    return {};
  });
}

// ---- directory changes ----

result<wire::qid> local_fs::mkdir(const server::context& cx, server::node& dir,
                                  std::string_view name, std::uint32_t mode, std::uint32_t gid) {
  if (s_->config.read_only) return fail_with(EROFS);
  if (!valid_name(name)) return fail_with(EINVAL);
  return s_->on(cx, dir, [&](local_node& d) -> result<wire::qid> {
    if (!d.ent->is_dir()) return fail_with(ENOTDIR);
    std::string nm(name);
    if (mkdirat(d.ent->fd.get(), nm.c_str(), static_cast<mode_t>(mode & 07777)) != 0) {
      return fail_errno();
    }
    return s_->finish_new(*d.ent, nm, gid, mode);
  });
}

result<wire::qid> local_fs::symlink(const server::context& cx, server::node& dir,
                                    std::string_view name, std::string_view target,
                                    std::uint32_t gid) {
  if (s_->config.read_only) return fail_with(EROFS);
  if (!valid_name(name)) return fail_with(EINVAL);
  // The target is only text to us (never followed), but it must be a C string.
  if (target.empty() || target.find('\0') != std::string_view::npos) return fail_with(EINVAL);
  return s_->on(cx, dir, [&](local_node& d) -> result<wire::qid> {
    if (!d.ent->is_dir()) return fail_with(ENOTDIR);
    std::string nm(name), tg(target);
    if (symlinkat(tg.c_str(), d.ent->fd.get(), nm.c_str()) != 0) return fail_errno();
    return s_->finish_new(*d.ent, nm, gid, std::nullopt);
  });
}

result<wire::qid> local_fs::mknod(const server::context& cx, server::node& dir,
                                  std::string_view name, std::uint32_t mode, std::uint32_t major,
                                  std::uint32_t minor, std::uint32_t gid) {
  if (s_->config.read_only) return fail_with(EROFS);
  if (!valid_name(name)) return fail_with(EINVAL);
  const mode_t type = mode & S_IFMT;
  if (type != S_IFREG && type != S_IFCHR && type != S_IFBLK && type != S_IFIFO &&
      type != S_IFSOCK) {
    return fail_with(EINVAL);
  }
  // A device node made by a client opens the host's device for whoever can reach it on the
  // host (the server itself refuses to open one); the kernel's own rule is CAP_MKNOD.
  if ((type == S_IFCHR || type == S_IFBLK) && !s_->config.allow_devices) return fail_with(EPERM);
  return s_->on(cx, dir, [&](local_node& d) -> result<wire::qid> {
    if (!d.ent->is_dir()) return fail_with(ENOTDIR);
    std::string nm(name);
    if (mknodat(d.ent->fd.get(), nm.c_str(), type | (mode & 07777), makedev(major, minor)) != 0) {
      return fail_errno();
    }
    return s_->finish_new(*d.ent, nm, gid, mode);
  });
}

result<std::string> local_fs::readlink(const server::context& cx, server::node& node) {
  return s_->on(cx, node, [&](local_node& n) -> result<std::string> {
    if (!n.ent->is_symlink()) return fail_with(EINVAL);
    std::string buf(256, '\0');
    for (;;) {
      const ssize_t got = readlinkat(n.ent->fd.get(), "", buf.data(), buf.size());
      if (got < 0) return fail_errno();
      if (static_cast<std::size_t>(got) < buf.size()) {
        buf.resize(static_cast<std::size_t>(got));
        return buf;
      }
      if (buf.size() >= (1u << 20)) return fail_with(ENAMETOOLONG);
      buf.resize(buf.size() * 2);
    }
  });
}

result<void> local_fs::link(const server::context& cx, server::node& dir, server::node& target,
                            std::string_view name) {
  if (s_->config.read_only) return fail_with(EROFS);
  if (!valid_name(name)) return fail_with(EINVAL);
  local_node* t = s_->cast(target);
  if (t == nullptr) return fail_with(EINVAL);
  return s_->on(cx, dir, [&](local_node& d) -> result<void> {
    if (!d.ent->is_dir()) return fail_with(ENOTDIR);
    std::string nm(name);
    // The target is the inode the client walked to inside the export: following the magic
    // link reaches exactly that inode (a symlink node links the symlink itself), never a path.
    if (linkat(AT_FDCWD, proc_path(t->ent->fd.get()).c_str(), d.ent->fd.get(), nm.c_str(),
               AT_SYMLINK_FOLLOW) != 0) {
      return fail_errno();
    }
    return {};
  });
}

namespace {

/// Whether `e` is `start` or one of its recorded ancestors (taking one lock at a time).
bool is_ancestor(const entry* e, entry_ptr start) {
  for (int depth = 0; start && depth < 65536; ++depth) {
    if (start.get() == e) return true;
    std::lock_guard lk(start->mu);
    entry_ptr up = start->parent;
    start = std::move(up);
  }
  return false;
}

}  // namespace

result<void> local_fs::rename(const server::context& cx, server::node& node, server::node& newdir,
                              std::string_view name) {
  if (s_->config.read_only) return fail_with(EROFS);
  if (!valid_name(name)) return fail_with(EINVAL);
  local_node* nd = s_->cast(newdir);
  if (nd == nullptr) return fail_with(EINVAL);
  return s_->on(cx, node, [&](local_node& n) -> result<void> {
    if (!nd->ent->is_dir()) return fail_with(ENOTDIR);
    entry& e = *n.ent;
    if (n.exp->is_root(e)) return fail_with(EBUSY);
    std::string nm(name);
    // Recorded parents can be stale after host-side moves: never let them form a cycle (the
    // entries would leak). Checked before taking e.mu, as it locks other entries.
    const bool cycle = is_ancestor(&e, nd->ent);
    std::lock_guard lk(e.mu);
    if (!e.parent) return fail_with(ESTALE);
    if (auto r = still_named(*e.parent, e.name, e); !r) return fail(r.error());
    if (::renameat(e.parent->fd.get(), e.name.c_str(), nd->ent->fd.get(), nm.c_str()) != 0) {
      return fail_errno();
    }
    e.parent = cycle ? nullptr : nd->ent;
    e.name = std::move(nm);
    return {};
  });
}

result<void> local_fs::renameat(const server::context& cx, server::node& olddir,
                                std::string_view oldname, server::node& newdir,
                                std::string_view newname) {
  if (s_->config.read_only) return fail_with(EROFS);
  if (!valid_name(oldname) || !valid_name(newname)) return fail_with(EINVAL);
  local_node* nd = s_->cast(newdir);
  if (nd == nullptr) return fail_with(EINVAL);
  return s_->on(cx, olddir, [&](local_node& od) -> result<void> {
    if (!od.ent->is_dir() || !nd->ent->is_dir()) return fail_with(ENOTDIR);
    std::string o(oldname), nn(newname);
    if (::renameat(od.ent->fd.get(), o.c_str(), nd->ent->fd.get(), nn.c_str()) != 0) {
      return fail_errno();
    }
    return {};
  });
}

result<void> local_fs::unlinkat(const server::context& cx, server::node& dir, std::string_view name,
                                std::uint32_t flags) {
  if (s_->config.read_only) return fail_with(EROFS);
  if (!valid_name(name)) return fail_with(EINVAL);
  return s_->on(cx, dir, [&](local_node& d) -> result<void> {
    if (!d.ent->is_dir()) return fail_with(ENOTDIR);
    std::string nm(name);
    const int f = (flags & wire::dotl::at_removedir) ? AT_REMOVEDIR : 0;
    if (::unlinkat(d.ent->fd.get(), nm.c_str(), f) != 0) return fail_errno();
    return {};
  });
}

result<void> local_fs::remove(const server::context& cx, server::node& node) {
  if (s_->config.read_only) return fail_with(EROFS);
  return s_->on(cx, node, [&](local_node& n) -> result<void> {
    entry& e = *n.ent;
    if (n.exp->is_root(e)) return fail_with(EBUSY);
    std::lock_guard lk(e.mu);
    if (!e.parent) return fail_with(ESTALE);
    if (auto r = still_named(*e.parent, e.name, e); !r) return fail(r.error());
    if (::unlinkat(e.parent->fd.get(), e.name.c_str(), e.is_dir() ? AT_REMOVEDIR : 0) != 0) {
      return fail_errno();
    }
    return {};
  });
}

// ---- locks ----

namespace {

result<struct flock> to_flock(const server::lock_request& l) {
  struct flock fl {};
  switch (l.type) {
    case wire::dotl::lock_type_rdlck:
      fl.l_type = F_RDLCK;
      break;
    case wire::dotl::lock_type_wrlck:
      fl.l_type = F_WRLCK;
      break;
    case wire::dotl::lock_type_unlck:
      fl.l_type = F_UNLCK;
      break;
    default:
      return fail_with(EINVAL);
  }
  if (l.start > static_cast<std::uint64_t>(INT64_MAX)) return fail_with(EINVAL);
  fl.l_whence = SEEK_SET;
  fl.l_start = static_cast<off_t>(l.start);
  // A range past the largest offset means "to the end of file" (length 0), as v9fs sends
  // OFFSET_MAX-based lengths for whole-file locks.
  fl.l_len =
      l.length > static_cast<std::uint64_t>(INT64_MAX) - l.start ? 0 : static_cast<off_t>(l.length);
  fl.l_pid = 0;  // required for OFD locks
  return fl;
}

}  // namespace

result<std::uint8_t> local_fs::lock(const server::context& cx, server::node& node,
                                    const server::lock_request& l) {
  return s_->on(cx, node, [&](local_node& n) -> result<std::uint8_t> {
    const int fd = n.open_fd.load();
    if (fd < 0) return fail_with(EBADF);
    auto fl = to_flock(l);
    if (!fl) return fail(fl.error());
    // F_OFD_SETLK, never SETLKW: a worker must not sleep on a client's lock. The client polls.
    if (retry_eintr([&] { return fcntl(fd, F_OFD_SETLK, &*fl); }) == 0) {
      return wire::dotl::lock_success;
    }
    if (errno == EAGAIN || errno == EACCES) return wire::dotl::lock_blocked;
    return fail_errno();
  });
}

result<server::lock_request> local_fs::getlock(const server::context& cx, server::node& node,
                                               const server::lock_request& l) {
  return s_->on(cx, node, [&](local_node& n) -> result<server::lock_request> {
    const int fd = n.open_fd.load();
    if (fd < 0) return fail_with(EBADF);
    auto fl = to_flock(l);
    if (!fl) return fail(fl.error());
    // v9fs sends Tgetlock with type UNLCK (it has already tested its local locks and lost the
    // caller's type): probe with a write lock, which every other lock conflicts with.
    if (fl->l_type == F_UNLCK) fl->l_type = F_WRLCK;
    if (retry_eintr([&] { return fcntl(fd, F_OFD_GETLK, &*fl); }) != 0) return fail_errno();
    server::lock_request r = l;
    if (fl->l_type == F_UNLCK) {
      r.type = wire::dotl::lock_type_unlck;
      return r;
    }
    r.type = fl->l_type == F_RDLCK ? wire::dotl::lock_type_rdlck : wire::dotl::lock_type_wrlck;
    r.start = static_cast<std::uint64_t>(fl->l_start);
    r.length = static_cast<std::uint64_t>(fl->l_len);
    r.proc_id = static_cast<std::uint32_t>(fl->l_pid);  // -1 for an OFD lock: no owning pid
    r.client_id.clear();
    return r;
  });
}

// ---- xattrs ----

result<std::string> local_fs::xattr_get(const server::context& cx, server::node& node,
                                        std::string_view name) {
  if (name.find('\0') != std::string_view::npos) return fail_with(EINVAL);
  return s_->on(cx, node, [&](local_node& n) -> result<std::string> {
    // O_PATH descriptors do not support f*xattr; the magic link reaches the same inode.
    const proc_path p(n.ent->fd.get());
    const std::string nm(name);
    auto query = [&](char* buf, std::size_t size) -> ssize_t {
      return nm.empty() ? listxattr(p.c_str(), buf, size)
                        : getxattr(p.c_str(), nm.c_str(), buf, size);
    };
    for (int attempt = 0; attempt < 8; ++attempt) {
      const ssize_t size = query(nullptr, 0);
      if (size < 0) return fail_errno();
      std::string value(static_cast<std::size_t>(size), '\0');
      if (size == 0) return value;
      const ssize_t got = query(value.data(), value.size());
      if (got >= 0) {
        value.resize(static_cast<std::size_t>(got));
        return value;
      }
      if (errno != ERANGE) return fail_errno();  // grew meanwhile: ask again
    }
    return fail_with(ERANGE);
  });
}

result<void> local_fs::xattr_set(const server::context& cx, server::node& node,
                                 std::string_view name, std::span<const std::byte> value,
                                 std::uint32_t flags) {
  namespace d = wire::dotl;
  if (s_->config.read_only) return fail_with(EROFS);
  if (name.empty() || name.find('\0') != std::string_view::npos) return fail_with(EINVAL);
  if (flags & ~(d::xattr_create | d::xattr_replace)) return fail_with(EINVAL);
  return s_->on(cx, node, [&](local_node& n) -> result<void> {
    const proc_path p(n.ent->fd.get());
    const std::string nm(name);
    // A zero-size Txattrcreate removes, whatever its flags: removexattr(2) through v9fs sends
    // flags XATTR_REPLACE (QEMU and diod remove on any zero size too). An empty value can
    // therefore not be set through 9P.
    if (value.empty()) {
      if (removexattr(p.c_str(), nm.c_str()) != 0) return fail_errno();
      return {};
    }
    int f = 0;
    if (flags & d::xattr_create) f |= XATTR_CREATE;
    if (flags & d::xattr_replace) f |= XATTR_REPLACE;
    if (setxattr(p.c_str(), nm.c_str(), value.data(), value.size(), f) != 0) return fail_errno();
    return {};
  });
}

}  // namespace ninep::fs
