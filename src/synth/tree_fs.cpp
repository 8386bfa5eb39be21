// SPDX-License-Identifier: MIT
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <ninep/core/error.hpp>
#include <ninep/synth/tree_fs.hpp>
#include <ninep/wire/dotl.hpp>

namespace ninep::synth {
namespace {

namespace dotl = wire::dotl;

tl::unexpected<std::error_code> err(int e) { return fail(errno_code(e)); }

// One fid's view of a tree entry. Every walk and clone makes a new one, so the handle made at
// open (the per-open state) belongs to exactly one fid and dies with it at clunk.
class tree_node final : public server::node {
 public:
  explicit tree_node(std::shared_ptr<entry> en) : e(std::move(en)) {}
  const std::shared_ptr<entry> e;
  // Set by open(). The server answers Tread/Twrite only on fids whose open has completed, and
  // that completion is ordered (through the connection's strand) before their dispatch.
  std::unique_ptr<handle> h;

  // A directory listing: a snapshot taken when a listing starts (cookie 0), so the cookies of
  // one listing (entry indexes) stay meaningful while the directory changes.
  std::mutex mu;
  std::vector<std::pair<std::string, std::shared_ptr<entry>>> listing;
  bool listed = false;
};

tree_node& as_tree(server::node& n) { return static_cast<tree_node&>(n); }

constexpr unsigned may_read = 4, may_write = 2, may_exec = 1;

// Permission check against the attaching user: owner class when the uids match, else the
// other class (the group class would need the user's groups, which 9P does not carry). Root
// passes whenever any class has each bit: a synthetic file without write bits has nothing to
// write to, whoever asks.
bool may(const entry& e, const context& cx, unsigned want) {
  std::uint32_t m = e.mode() & 0777;
  for (unsigned bit : {may_read, may_write, may_exec})
    if ((want & bit) && (m & (bit * 0111)) == 0) return false;
  if (cx.user.uid == 0) return true;
  if (cx.user.uid == e.uid()) return ((m >> 6) & want) == want;
  return (m & want) == want;
}

bool is_owner(const entry& e, const context& cx) {
  return cx.user.uid == 0 || cx.user.uid == e.uid();
}

// A writable directory of the tree where the user may add and remove names.
result<std::shared_ptr<dir>> changeable_dir(const context& cx, tree_node& n) {
  if (!n.e->is_dir()) return err(ENOTDIR);
  auto d = std::static_pointer_cast<dir>(n.e);
  if (!d->client_writable() || !may(*d, cx, may_write | may_exec)) return err(EACCES);
  return d;
}

std::uint8_t dt_of(const entry& e) { return e.is_dir() ? DT_DIR : DT_REG; }

std::uint32_t owner_of(const context& cx) { return cx.user.uid; }

std::uint32_t group_for(const dir& d, std::uint32_t gid) { return gid == ~0u ? d.gid() : gid; }

std::pair<std::uint64_t, std::uint64_t> now() {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
  return {static_cast<std::uint64_t>(ns / 1000000000), static_cast<std::uint64_t>(ns % 1000000000)};
}

result<void> remove_name(const context& cx, tree_node& dn, std::string_view name, bool want_dir) {
  auto d = changeable_dir(cx, dn);
  if (!d) return fail(d.error());
  auto e = (*d)->find(name);
  if (!e) return err(ENOENT);
  if (dynamic_cast<mount_point*>(e.get())) return err(EBUSY);
  if (want_dir && !e->is_dir()) return err(ENOTDIR);
  if (!want_dir && e->is_dir()) return err(EISDIR);
  if (want_dir && std::static_pointer_cast<dir>(e)->count() != 0) return err(ENOTEMPTY);
  return (*d)->remove(name);
}

}  // namespace

mount_point::mount_point(std::shared_ptr<server::filesystem> fs, std::string aname)
    : entry(S_IFDIR | 0555), fs_(std::move(fs)), aname_(std::move(aname)) {}

std::shared_ptr<mount_point> mount(std::shared_ptr<server::filesystem> fs, std::string aname) {
  return std::make_shared<mount_point>(std::move(fs), std::move(aname));
}

tree_fs::tree_fs(std::shared_ptr<dir> root) : root_(std::move(root)) {}

std::shared_ptr<tree_fs> tree_fs::make(std::shared_ptr<dir> root) {
  return std::make_shared<tree_fs>(std::move(root));
}

result<server::walked> tree_fs::attach(const context&) {
  return server::walked{std::make_shared<tree_node>(root_), root_->qid()};
}

result<server::walked> tree_fs::walk(const context& cx, server::node& from, std::string_view name) {
  auto& t = as_tree(from);
  if (!t.e->is_dir()) return err(ENOTDIR);
  if (!may(*t.e, cx, may_exec)) return err(EACCES);
  auto d = std::static_pointer_cast<dir>(t.e);
  std::shared_ptr<entry> next;
  if (name == "..") {
    // The tree may be part of a bigger one; ".." never leaves the tree this serves.
    if (d != root_) next = d->parent();
    if (!next) next = d;
  } else {
    next = d->find(name);
    if (!next) return err(ENOENT);
  }
  if (auto* mp = dynamic_cast<mount_point*>(next.get())) {
    // The mounted filesystem's root, handed to the server with its filesystem: every call on
    // it and below goes there, and ".." from it comes back to `d` (the server sees to both).
    server::user u = cx.user;
    u.aname = mp->aname();
    context inner{u, cx.stop};
    auto w = mp->fs()->attach(inner);
    if (!w) return fail(w.error());
    if (!w->fs) w->fs = mp->fs();
    // Best effort against qid.path collisions with the tree's own entries (small ids).
    w->qid_salt ^= mp->id() << 48;
    return w;
  }
  return server::walked{std::make_shared<tree_node>(next), next->qid()};
}

result<server::node_ptr> tree_fs::clone(const context&, const server::node_ptr& n) {
  return std::make_shared<tree_node>(as_tree(*n).e);
}

// Attributes of tree entries live in memory: safe on the network thread. Reads of tree files
// run the file's own code, so they always go to a worker (no try_read).
std::optional<result<server::attr>> tree_fs::try_getattr(const context& cx, server::node& n,
                                                         std::uint64_t mask) {
  return getattr(cx, n, mask);
}

result<server::attr> tree_fs::getattr(const context&, server::node& n, std::uint64_t) {
  const entry& e = *as_tree(n).e;
  server::attr a;
  a.valid = dotl::getattr_basic;
  a.qid = e.qid();
  a.mode = e.mode();
  a.uid = e.uid();
  a.gid = e.gid();
  a.nlink = e.is_dir() ? 2 : 1;
  a.size = e.size();
  a.blksize = 4096;
  a.blocks = (a.size + 511) / 512;
  std::tie(a.mtime_sec, a.mtime_nsec) = e.mtime();
  std::tie(a.atime_sec, a.atime_nsec) = e.atime();
  a.ctime_sec = a.mtime_sec;
  a.ctime_nsec = a.mtime_nsec;
  return a;
}

result<void> tree_fs::setattr(const context& cx, server::node& n, const server::set_attr& a) {
  entry& e = *as_tree(n).e;
  // Check everything first, so a refused request changes nothing.
  if ((a.valid & dotl::setattr_mode) && !is_owner(e, cx)) return err(EPERM);
  if ((a.valid & dotl::setattr_uid) && cx.user.uid != 0 && a.uid != e.uid()) return err(EPERM);
  if ((a.valid & dotl::setattr_gid) && !is_owner(e, cx)) return err(EPERM);
  if (a.valid & dotl::setattr_size) {
    if (e.is_dir()) return err(EISDIR);
    if (!may(e, cx, may_write)) return err(EACCES);
  }
  const bool set_times = a.valid & (dotl::setattr_atime_set | dotl::setattr_mtime_set);
  const bool times = a.valid & (dotl::setattr_atime | dotl::setattr_mtime);
  if (set_times && !is_owner(e, cx)) return err(EPERM);
  if (times && !is_owner(e, cx) && !may(e, cx, may_write)) return err(EACCES);

  if (a.valid & dotl::setattr_size) {
    auto* f = dynamic_cast<file*>(&e);
    if (!f) return err(EINVAL);
    if (auto ok = f->truncate(cx, a.size); !ok) return ok;
  }
  if (a.valid & dotl::setattr_mode) e.set_perm(a.mode);
  if (a.valid & (dotl::setattr_uid | dotl::setattr_gid))
    e.set_owner(a.valid & dotl::setattr_uid ? a.uid : e.uid(),
                a.valid & dotl::setattr_gid ? a.gid : e.gid());
  auto [s, ns] = now();
  if (a.valid & dotl::setattr_mtime) {
    if (a.valid & dotl::setattr_mtime_set)
      e.set_mtime(a.mtime_sec, a.mtime_nsec);
    else
      e.set_mtime(s, ns);
  }
  if (a.valid & dotl::setattr_atime) {
    if (a.valid & dotl::setattr_atime_set)
      e.set_atime(a.atime_sec, a.atime_nsec);
    else
      e.set_atime(s, ns);
  }
  return {};
}

result<server::opened> tree_fs::open(const context& cx, server::node& n, int flags) {
  auto& t = as_tree(n);
  const int acc = flags & O_ACCMODE;
  if (t.e->is_dir()) {
    if (acc != O_RDONLY) return err(EISDIR);
    if (!may(*t.e, cx, may_read)) return err(EACCES);
    return server::opened{t.e->qid(), 0};
  }
  if (flags & O_DIRECTORY) return err(ENOTDIR);
  unsigned want = acc == O_RDONLY ? may_read : acc == O_WRONLY ? may_write : may_read | may_write;
  if (flags & O_TRUNC) want |= may_write;
  if (!may(*t.e, cx, want)) return err(EACCES);
  auto* f = dynamic_cast<file*>(t.e.get());
  if (!f) return err(EOPNOTSUPP);  // an entry that is neither a file nor a directory
  if (flags & O_TRUNC) {
    if (auto ok = f->truncate(cx, 0); !ok) return fail(ok.error());
  }
  auto h = f->open(cx, flags);
  if (!h) return fail(h.error());
  t.h = std::move(*h);
  return server::opened{t.e->qid(), 0};
}

result<server::created> tree_fs::create(const context& cx, server::node& dn, std::string_view name,
                                        int flags, std::uint32_t mode, std::uint32_t gid) {
  auto d = changeable_dir(cx, as_tree(dn));
  if (!d) return fail(d.error());
  if ((*d)->find(name)) return err(EEXIST);
  auto f = (*d)->make_file(cx, name);
  if (!f) return fail(f.error());
  (*f)->set_perm(mode & 07777);
  (*f)->set_owner(owner_of(cx), group_for(**d, gid));
  if (auto ok = (*d)->add(name, *f); !ok) return fail(ok.error());
  // No permission check on this open: the creator may open what it made with any mode
  // (open(2) with O_CREAT and mode 0444 still returns a writable descriptor).
  auto h = (*f)->open(cx, flags);
  if (!h) return fail(h.error());
  auto node = std::make_shared<tree_node>(*f);
  node->h = std::move(*h);
  return server::created{node, (*f)->qid(), 0};
}

result<std::size_t> tree_fs::read(const context& cx, server::node& n, std::uint64_t offset,
                                  std::span<std::byte> out) {
  auto& t = as_tree(n);
  if (!t.h) return err(EBADF);
  return t.h->read(cx, offset, out);
}

void tree_fs::async_read(const context& cx, server::node& n, std::uint64_t offset,
                         std::span<std::byte> out, read_callback done) {
  auto& t = as_tree(n);
  if (!t.h) return done(err(EBADF));
  t.h->async_read(cx, offset, out, std::move(done));
}

result<std::size_t> tree_fs::write(const context& cx, server::node& n, std::uint64_t offset,
                                   std::span<const std::byte> in) {
  auto& t = as_tree(n);
  if (!t.h) return err(EBADF);
  return t.h->write(cx, offset, in);
}

result<void> tree_fs::readdir(const context&, server::node& n, std::uint64_t cookie,
                              server::dirent_sink& out) {
  auto& t = as_tree(n);
  if (!t.e->is_dir()) return err(ENOTDIR);
  auto d = std::static_pointer_cast<dir>(t.e);
  std::lock_guard l(t.mu);
  if (cookie == 0 || !t.listed) {
    std::shared_ptr<entry> up = d == root_ ? nullptr : d->parent();
    t.listing.clear();
    t.listing.emplace_back(".", d);
    t.listing.emplace_back("..", up ? up : d);
    auto children = d->list();
    t.listing.insert(t.listing.end(), std::make_move_iterator(children.begin()),
                     std::make_move_iterator(children.end()));
    t.listed = true;
  }
  for (std::uint64_t i = cookie; i < t.listing.size(); ++i) {
    const auto& [name, e] = t.listing[i];
    if (!out.add(e->qid(), i + 1, dt_of(*e), name)) break;
  }
  return {};
}

result<void> tree_fs::fsync(const context&, server::node&, bool) { return {}; }

result<server::fs_stat> tree_fs::statfs(const context&, server::node&) {
  server::fs_stat s;
  s.type = dotl::v9fs_magic;
  s.bsize = 4096;
  s.namelen = 255;
  return s;
}

result<wire::qid> tree_fs::mkdir(const context& cx, server::node& dn, std::string_view name,
                                 std::uint32_t mode, std::uint32_t gid) {
  auto d = changeable_dir(cx, as_tree(dn));
  if (!d) return fail(d.error());
  if ((*d)->find(name)) return err(EEXIST);
  auto sub = (*d)->make_dir(cx, name);
  if (!sub) return fail(sub.error());
  (*sub)->set_perm(mode & 07777);
  (*sub)->set_owner(owner_of(cx), group_for(**d, gid));
  if (auto ok = (*d)->add(name, *sub); !ok) return fail(ok.error());
  return (*sub)->qid();
}

result<std::string> tree_fs::readlink(const context&, server::node&) {
  return err(EINVAL);  // readlink(2) on something that is not a symlink
}

result<void> tree_fs::rename(const context& cx, server::node& n, server::node& newdir,
                             std::string_view name) {
  auto& t = as_tree(n);
  if (t.e == root_) return err(EBUSY);
  auto from = t.e->parent();
  if (!from) return err(ENOENT);  // removed meanwhile
  tree_node from_node(from);
  return renameat(cx, from_node, t.e->name(), newdir, name);
}

result<void> tree_fs::renameat(const context& cx, server::node& olddir, std::string_view oldname,
                               server::node& newdir, std::string_view newname) {
  auto from = changeable_dir(cx, as_tree(olddir));
  if (!from) return fail(from.error());
  auto to = changeable_dir(cx, as_tree(newdir));
  if (!to) return fail(to.error());
  return dir::rename(**from, oldname, **to, newname);
}

result<void> tree_fs::unlinkat(const context& cx, server::node& dn, std::string_view name,
                               std::uint32_t flags) {
  return remove_name(cx, as_tree(dn), name, (flags & dotl::at_removedir) != 0);
}

result<void> tree_fs::remove(const context& cx, server::node& n) {
  auto& t = as_tree(n);
  if (t.e == root_) return err(EBUSY);
  auto parent = t.e->parent();
  if (!parent) return err(ENOENT);
  tree_node parent_node(parent);
  return remove_name(cx, parent_node, t.e->name(), t.e->is_dir());
}

result<std::uint8_t> tree_fs::lock(const context&, server::node&, const server::lock_request&) {
  return dotl::lock_success;  // advisory locks are the clients' business: always granted
}

result<server::lock_request> tree_fs::getlock(const context&, server::node&,
                                              const server::lock_request& l) {
  server::lock_request r = l;
  r.type = dotl::lock_type_unlck;
  return r;
}

}  // namespace ninep::synth
