// SPDX-License-Identifier: MIT
#include "forward.hpp"

#include <cerrno>
#include <ninep/core/error.hpp>

namespace ninep::synth::detail {
namespace {

// The other node of a two-node call, unwrapped; null when it is not of `f`'s filesystem.
server::node* same_fs(const foreign_node& f, server::node& other) {
  auto* o = as_foreign(other);
  return o && o->fs == f.fs ? o->inner.get() : nullptr;
}

class salting_sink final : public server::dirent_sink {
 public:
  salting_sink(server::dirent_sink& out, std::uint64_t salt) : out_(out), salt_(salt) {}
  bool add(const wire::qid& q, std::uint64_t next, std::uint8_t type,
           std::string_view name) override {
    wire::qid s = q;
    s.path ^= salt_;
    return out_.add(s, next, type, name);
  }

 private:
  server::dirent_sink& out_;
  std::uint64_t salt_;
};

}  // namespace

std::shared_ptr<foreign_node> foreign_node::wrap(server::node_ptr n, std::size_t d) const {
  auto w = std::make_shared<foreign_node>();
  w->fs = fs;
  w->inner = std::move(n);
  w->salt = salt;
  w->mount_parent = mount_parent;
  w->depth = d;
  return w;
}

result<server::walked> fwd_walk(const context& cx, foreign_node& f, std::string_view name) {
  auto w = f.fs->walk(cx, *f.inner, name);
  if (!w) return fail(w.error());
  std::size_t d = name == ".." ? (f.depth ? f.depth - 1 : 0) : f.depth + 1;
  return server::walked{f.wrap(std::move(w->node), d), f.salted(w->qid)};
}
result<server::node_ptr> fwd_clone(const context& cx, foreign_node& f) {
  auto n = f.fs->clone(cx, f.inner);
  if (!n) return fail(n.error());
  return f.wrap(std::move(*n), f.depth);
}
std::optional<result<server::attr>> fwd_try_getattr(const context& cx, foreign_node& f,
                                                    std::uint64_t mask) {
  auto a = f.fs->try_getattr(cx, *f.inner, mask);
  if (a && *a) (*a)->qid = f.salted((*a)->qid);
  return a;
}

std::optional<result<std::size_t>> fwd_try_read(const context& cx, foreign_node& f,
                                                std::uint64_t off, std::span<std::byte> out) {
  return f.fs->try_read(cx, *f.inner, off, out);
}

result<server::attr> fwd_getattr(const context& cx, foreign_node& f, std::uint64_t mask) {
  auto a = f.fs->getattr(cx, *f.inner, mask);
  if (a) a->qid = f.salted(a->qid);
  return a;
}
result<void> fwd_setattr(const context& cx, foreign_node& f, const server::set_attr& a) {
  return f.fs->setattr(cx, *f.inner, a);
}
result<server::opened> fwd_open(const context& cx, foreign_node& f, int flags) {
  auto o = f.fs->open(cx, *f.inner, flags);
  if (o) o->qid = f.salted(o->qid);
  return o;
}
result<server::created> fwd_create(const context& cx, foreign_node& f, std::string_view name,
                                   int flags, std::uint32_t mode, std::uint32_t gid) {
  auto c = f.fs->create(cx, *f.inner, name, flags, mode, gid);
  if (!c) return fail(c.error());
  return server::created{f.wrap(std::move(c->node), f.depth + 1), f.salted(c->qid), c->iounit};
}
result<std::size_t> fwd_read(const context& cx, foreign_node& f, std::uint64_t off,
                             std::span<std::byte> out) {
  return f.fs->read(cx, *f.inner, off, out);
}
void fwd_async_read(const context& cx, foreign_node& f, std::uint64_t off, std::span<std::byte> out,
                    read_callback done) {
  f.fs->async_read(cx, *f.inner, off, out, std::move(done));
}
result<std::size_t> fwd_write(const context& cx, foreign_node& f, std::uint64_t off,
                              std::span<const std::byte> in) {
  return f.fs->write(cx, *f.inner, off, in);
}
result<void> fwd_readdir(const context& cx, foreign_node& f, std::uint64_t cookie,
                         server::dirent_sink& out) {
  salting_sink s(out, f.salt);
  return f.fs->readdir(cx, *f.inner, cookie, s);
}
result<void> fwd_fsync(const context& cx, foreign_node& f, bool datasync) {
  return f.fs->fsync(cx, *f.inner, datasync);
}
result<server::fs_stat> fwd_statfs(const context& cx, foreign_node& f) {
  return f.fs->statfs(cx, *f.inner);
}
result<wire::qid> fwd_mkdir(const context& cx, foreign_node& f, std::string_view name,
                            std::uint32_t mode, std::uint32_t gid) {
  return f.fs->mkdir(cx, *f.inner, name, mode, gid).transform([&](wire::qid q) {
    return f.salted(q);
  });
}
result<wire::qid> fwd_symlink(const context& cx, foreign_node& f, std::string_view name,
                              std::string_view target, std::uint32_t gid) {
  return f.fs->symlink(cx, *f.inner, name, target, gid).transform([&](wire::qid q) {
    return f.salted(q);
  });
}
result<wire::qid> fwd_mknod(const context& cx, foreign_node& f, std::string_view name,
                            std::uint32_t mode, std::uint32_t major, std::uint32_t minor,
                            std::uint32_t gid) {
  return f.fs->mknod(cx, *f.inner, name, mode, major, minor, gid).transform([&](wire::qid q) {
    return f.salted(q);
  });
}
result<std::string> fwd_readlink(const context& cx, foreign_node& f) {
  return f.fs->readlink(cx, *f.inner);
}
result<void> fwd_link(const context& cx, foreign_node& dir, server::node& target,
                      std::string_view name) {
  server::node* t = same_fs(dir, target);
  if (!t) return fail(errno_code(EXDEV));
  return dir.fs->link(cx, *dir.inner, *t, name);
}
result<void> fwd_rename(const context& cx, foreign_node& f, server::node& newdir,
                        std::string_view name) {
  server::node* d = same_fs(f, newdir);
  if (!d) return fail(errno_code(EXDEV));
  return f.fs->rename(cx, *f.inner, *d, name);
}
result<void> fwd_renameat(const context& cx, foreign_node& olddir, std::string_view oldname,
                          server::node& newdir, std::string_view newname) {
  server::node* d = same_fs(olddir, newdir);
  if (!d) return fail(errno_code(EXDEV));
  return olddir.fs->renameat(cx, *olddir.inner, oldname, *d, newname);
}
result<void> fwd_unlinkat(const context& cx, foreign_node& f, std::string_view name,
                          std::uint32_t flags) {
  return f.fs->unlinkat(cx, *f.inner, name, flags);
}
result<void> fwd_remove(const context& cx, foreign_node& f) { return f.fs->remove(cx, *f.inner); }
result<std::uint8_t> fwd_lock(const context& cx, foreign_node& f, const server::lock_request& l) {
  return f.fs->lock(cx, *f.inner, l);
}
result<server::lock_request> fwd_getlock(const context& cx, foreign_node& f,
                                         const server::lock_request& l) {
  return f.fs->getlock(cx, *f.inner, l);
}
result<std::string> fwd_xattr_get(const context& cx, foreign_node& f, std::string_view name) {
  return f.fs->xattr_get(cx, *f.inner, name);
}
result<void> fwd_xattr_set(const context& cx, foreign_node& f, std::string_view name,
                           std::span<const std::byte> value, std::uint32_t flags) {
  return f.fs->xattr_set(cx, *f.inner, name, value, flags);
}

}  // namespace ninep::synth::detail
