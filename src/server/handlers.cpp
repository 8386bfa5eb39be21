// SPDX-License-Identifier: MIT
// Request handlers: run on worker threads, turn each message into filesystem calls, and encode
// the reply. 9P2000 and 9P2000.u requests are mapped onto the same (9P2000.L-shaped) backend
// operations, so a backend is written once for all dialects; the conversions that takes are in
// compat.cpp.
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include <cstring>
#include <ninep/core/error.hpp>
#include <ninep/wire/dotl.hpp>
#include <ninep/wire/errors.hpp>
#include <optional>
#include <string>
#include <unordered_map>

#include "compat.hpp"
#include "connection.hpp"
#include "mount.hpp"

namespace ninep::server::detail {
namespace {

using namespace wire;

/// Host open(2) flags from P9_DOTL_* wire flags. Never passed through raw: the values differ
/// between architectures. O_CREAT, O_NOCTTY, O_ASYNC and O_DIRECT are dropped (QEMU does too).
int open_flags_from_dotl(std::uint32_t f) noexcept {
  int o = static_cast<int>(f & dotl::accmode);
  struct bit {
    std::uint32_t wire;
    int host;
  };
  static constexpr bit bits[] = {{dotl::excl, O_EXCL},           {dotl::trunc, O_TRUNC},
                                 {dotl::append, O_APPEND},       {dotl::nonblock, O_NONBLOCK},
                                 {dotl::dsync, O_DSYNC},         {dotl::largefile, O_LARGEFILE},
                                 {dotl::directory, O_DIRECTORY}, {dotl::nofollow, O_NOFOLLOW},
                                 {dotl::noatime, O_NOATIME},     {dotl::sync, O_SYNC}};
  for (auto b : bits)
    if (f & b.wire) o |= b.host;
  return o;
}

// Collects dirents into an Rreaddir payload until `count` bytes are used; entries are whole.
// Qids get the salt of the fid's mount.
class dirent_writer final : public dirent_sink {
 public:
  dirent_writer(std::span<std::byte> out, std::uint64_t salt) : out_(out), salt_(salt) {}
  bool add(const qid& q, std::uint64_t next, std::uint8_t type, std::string_view name) override {
    auto n = encode_dirent(dirent{salted(q, salt_), next, type, name}, out_.subspan(used_));
    if (!n) return false;
    used_ += *n;
    return true;
  }
  std::size_t used() const { return used_; }

 private:
  std::span<std::byte> out_;
  std::uint64_t salt_;
  std::size_t used_ = 0;
};

class handler {
 public:
  explicit handler(request& r)
      : r_(r),
        c_(*r.conn),
        fs_(r.f1 ? fs_of(*r.f1) : *c_.sh().fs),
        salt_(r.f1 ? salt_in(r.f1->mnt) : 0),
        cx_{r.f1 ? *r.f1->user : anonymous_, r.stop.get_token()} {}

  void operator()(const Tattach& m) {
    // The server decides who this attach acts as; what it names is only one input.
    std::string credential;
    if (r_.f2) {
      std::lock_guard lk(r_.f2->extra->mu);
      credential = r_.f2->extra->auth;
    }
    attach_request a{m.uname,
                     c_.dialect() == dialect::v2000 ? no_id : m.n_uname,
                     c_.peer_credentials(),
                     r_.proven,
                     r_.f2 ? &credential : nullptr,
                     c_.tls_subject()};
    std::string why;
    auto d = decide_identity(c_.sh().opts.identity, c_.sh().users, c_.sh().self, a, why);
    if (!d) {
      c_.sh().log(log_level::warn,
                  fmt::format("{}: attach as \"{}\" (n_uname {}) refused: {}", c_.peer_name(),
                              m.uname, a.n_uname, why.empty() ? d.error().message() : why));
      return error(d.error());
    }
    r_.now_proven = d->proven;
    auto u = std::make_shared<ninep::server::user>(std::move(d->who));
    u->aname = std::string(m.aname);
    c_.sh().log(log_level::debug,
                fmt::format("{}: attach as \"{}\" (n_uname {}) acts as {} (uid {})", c_.peer_name(),
                            m.uname, a.n_uname, u->name, u->uid));
    context cx{*u, r_.stop.get_token()};
    auto w = fs_.attach(cx);
    if (!w) {
      c_.sh().log(log_level::info,
                  fmt::format("{}: attach aname \"{}\" as \"{}\" failed: {}", c_.peer_name(),
                              m.aname, u->name, w.error().message()));
      if (w.error() == errc::unknown_aname)
        return error(w.error(), fmt::format("unknown aname \"{}\"", m.aname));
      return error(w.error());
    }
    auto f = std::make_shared<fid_state>();
    f->node = std::move(w->node);
    if (w->fs) f->mnt = std::make_shared<const mount>(mount{std::move(w->fs), w->qid_salt});
    f->qid = salted(w->qid, w->qid_salt);
    f->user = std::move(u);
    f->name = "/";
    r_.result = f;
    reply(Rattach{f->qid});
  }

  void operator()(const Twalk& m) {
    const fid_state& from = *r_.f1;
    if (m.wnames.empty()) {
      auto n = fs_.clone(cx_, from.node);
      if (!n) return error(n.error());
      auto f = same_file();
      f->node = std::move(*n);
      r_.result = f;
      return reply(Rwalk{});
    }
    Rwalk out;
    node_ptr cur = from.node, parent = from.parent;
    std::shared_ptr<const mount> mnt = from.mnt;
    std::string name = from.name;
    std::uint32_t depth = from.depth;
    // walk(5): failing on the first element is an error; later, a short Rwalk.
    auto stop = [&](std::error_code ec) { return out.qids.empty() ? error(ec) : reply(out); };
    for (auto w : m.wnames) {
      if (w.empty()) {
        // go-p9p's 9pr walks "" for "/". walk(5) allows the error; say why it is one.
        if (out.qids.empty()) return error(errno_code(EINVAL), "walk: empty file name");
        return reply(out);
      }
      if (w == ".." && depth == 0 && mnt && mnt->at) {
        // ".." from the root of a mount point: the directory holding it, a node of the outer
        // filesystem (a fresh one, as a walk would give: nodes are per fid).
        auto back = fs_in(mnt->outer, *c_.sh().fs).clone(cx_, mnt->at);
        if (!back) return stop(back.error());
        out.qids.push_back(mnt->at_qid);
        cur = std::move(*back);
        parent = mnt->at_parent;
        name = mnt->at_name;
        depth = mnt->at_depth;
        auto outer = mnt->outer;
        mnt = std::move(outer);
        continue;
      }
      auto step = fs_in(mnt, *c_.sh().fs).walk(cx_, *cur, w);
      if (!step) return stop(step.error());
      std::uint64_t salt = salt_in(mnt);
      if (step->fs) {
        // Onto a mount point: from here on the fid is the mounted filesystem's.
        salt ^= step->qid_salt;
        qid at_qid = out.qids.empty() ? from.qid : out.qids[out.qids.size() - 1];
        mnt = std::make_shared<const mount>(
            mount{std::move(step->fs), salt, std::move(mnt), cur, at_qid, parent, name, depth});
        // The mounted root has no parent in its own filesystem: no rename through Twstat.
        parent = nullptr;
        depth = 0;
      } else {
        parent = cur;
        depth = w != ".." ? depth + 1 : depth > 0 ? depth - 1 : 0;
      }
      out.qids.push_back(salted(step->qid, salt));
      cur = std::move(step->node);
      name = w;
    }
    auto f = std::make_shared<fid_state>();
    f->node = std::move(cur);
    f->qid = out.qids[out.qids.size() - 1];
    f->mnt = std::move(mnt);
    f->user = from.user;
    f->parent = std::move(parent);
    f->name = std::move(name);
    f->depth = depth;
    r_.result = f;
    reply(out);
  }

  void operator()(const Tlopen& m) { open(open_flags_from_dotl(m.flags), false, true); }
  void operator()(const Topen& m) {
    open(open_flags_from_dotl(dotl_flags(m.mode)), (m.mode & omode::rclose) != 0, false);
  }

  void operator()(const Tlcreate& m) {
    auto c = fs_.create(cx_, *r_.f1->node, m.name, open_flags_from_dotl(m.flags), m.mode, m.gid);
    if (!c) return error(c.error());
    install_created(std::move(c->node), c->qid, open_flags_from_dotl(m.flags), m.name, false);
    reply(Rlcreate{out(c->qid), iounit(c->iounit)});
  }

  void operator()(const Tcreate& m) {
    node& dir = *r_.f1->node;
    int flags = open_flags_from_dotl(dotl_flags(m.mode));
    std::uint32_t perm = posix_mode(m.perm, c_.dialect()) & 07777;  // kinds come from perm below
    bool special =
        (m.perm & (dm::dir | dm::symlink | dm::link | dm::device | dm::namedpipe | dm::socket)) !=
        0;
    if (special) {
      // Directories, and with 9P2000.u links and devices, are made first, then walked to and
      // (for directories) opened, so the fid ends up on the new file as create(5) says.
      result<qid> made = fail(errno_code(EINVAL));
      if (m.perm & dm::dir) {
        made = fs_.mkdir(cx_, dir, m.name, perm, no_id);
      } else if (c_.dialect() != dialect::v2000u) {
        made = fail(errno_code(EOPNOTSUPP));
      } else if (m.perm & dm::link) {
        // The target fid was looked up on receipt (r.f2). A link has the target's qid.
        auto ok = fs_.link(cx_, dir, *r_.f2->node, m.name);
        made = ok ? result<qid>(r_.f2->qid) : fail(ok.error());
      } else if (m.perm & dm::symlink) {
        made = fs_.symlink(cx_, dir, m.name, m.extension, no_id);
      } else if (m.perm & (dm::namedpipe | dm::socket)) {
        made = fs_.mknod(cx_, dir, m.name, perm | ((m.perm & dm::socket) ? S_IFSOCK : S_IFIFO), 0,
                         0, no_id);
      } else {
        char kind = 0;
        unsigned maj = 0, min = 0;
        if (std::sscanf(std::string(m.extension).c_str(), "%c %u %u", &kind, &maj, &min) == 3 &&
            (kind == 'c' || kind == 'b'))
          made = fs_.mknod(cx_, dir, m.name, perm | (kind == 'c' ? S_IFCHR : S_IFBLK), maj, min,
                           no_id);
      }
      if (!made) return error(made.error());
      auto w = fs_.walk(cx_, dir, m.name);
      if (!w) return error(w.error());
      std::uint32_t unit = 0;
      bool opened = false;
      if (m.perm & dm::dir) {
        auto o = fs_.open(cx_, *w->node, O_RDONLY | O_DIRECTORY);
        if (!o) return error(o.error());
        unit = o->iounit;
        opened = true;
      }
      install_created(std::move(w->node), w->qid, O_RDONLY, m.name, (m.mode & omode::rclose) != 0);
      r_.result->open = opened;
      return reply(Rcreate{out(w->qid), iounit(unit)});
    }
    auto c = fs_.create(cx_, dir, m.name, flags, perm, no_id);
    if (!c) return error(c.error());
    install_created(std::move(c->node), c->qid, flags, m.name, (m.mode & omode::rclose) != 0);
    reply(Rcreate{out(c->qid), iounit(c->iounit)});
  }

  void operator()(const Tread& m) {
    fid_state& f = *r_.f1;
    if (f.kind == fid_state::kind::xattr_read) {
      fid_extra& x = *f.extra;
      std::lock_guard lock(x.mu);
      std::size_t off = std::min<std::uint64_t>(m.offset, x.xattr.size());
      std::size_t n = std::min<std::size_t>(m.count, x.xattr.size() - off);
      return reply_data({reinterpret_cast<const std::byte*>(x.xattr.data()) + off, n});
    }
    if ((f.qid.type & qt::dir) && c_.dialect() != dialect::v2000L) return read_dir_stats(m);
    r_.payload = c_.sh().pools.get(m.count);
    // The read may complete later, on another thread (an event file): the callback, not
    // execute(), hands the request back to the connection.
    pending_ = true;  // from here on `r_` may be finished and recycled by another thread
    request* rp = &r_;
    fs_.async_read(cx_, *f.node, m.offset, r_.payload.span().first(m.count),
                   [rp](result<std::size_t> n) {
                     connection& c = *rp->conn;
                     if (n)
                       c.set_reply(*rp, Rread{payload{rp->payload.span().first(*n)}});
                     else
                       c.set_error(*rp, n.error());
                     c.complete(rp);
                   });
  }

  void operator()(const Twrite& m) {
    fid_state& f = *r_.f1;
    if (f.kind == fid_state::kind::xattr_write) {
      fid_extra& x = *f.extra;
      std::lock_guard lock(x.mu);
      // Only in order, and never beyond the size declared in Txattrcreate.
      if (m.offset != x.xattr.size() || x.xattr.size() + m.data.data.size() > x.xattr_size)
        return error(errno_code(EINVAL));
      x.xattr.append(reinterpret_cast<const char*>(m.data.data.data()), m.data.data.size());
      return reply(Rwrite{static_cast<std::uint32_t>(m.data.data.size())});
    }
    auto n = fs_.write(cx_, *f.node, m.offset, m.data.data);
    if (!n) return error(n.error());
    reply(Rwrite{static_cast<std::uint32_t>(*n)});
  }

  void operator()(const Tclunk&) {
    fid_state& f = *r_.f1;
    if (f.kind == fid_state::kind::xattr_write) {
      fid_extra& x = *f.extra;
      std::lock_guard lock(x.mu);
      // The value is committed at clunk; a partial write must fail (QEMU does the same).
      if (x.xattr.size() != x.xattr_size) return error(errno_code(EINVAL));
      auto ok = fs_.xattr_set(cx_, *f.node, x.xattr_name,
                              {reinterpret_cast<const std::byte*>(x.xattr.data()), x.xattr.size()},
                              x.xattr_flags);
      if (!ok) return error(ok.error());
    }
    if (f.rclose) {
      if (auto ok = fs_.remove(cx_, *f.node); !ok) return error(ok.error());
    }
    reply(Rclunk{});
  }

  void operator()(const Tremove&) {
    auto ok = fs_.remove(cx_, *r_.f1->node);
    if (!ok) return error(ok.error());
    reply(Rremove{});
  }

  void operator()(const Tstat&) {
    fid_state& f = *r_.f1;
    stat_strings keep;
    auto st = stat_of(fs_, cx_, *f.node, f.name, c_.dialect(), c_.sh().users, keep);
    if (!st) return error(st.error());
    st->qid = out(st->qid);
    reply(Rstat{*st});
  }

  void operator()(const Twstat& m) {
    fid_state& f = *r_.f1;
    const wire::stat& s = m.stat;
    auto sa = set_attr_of(s, c_.dialect(), c_.sh().users);
    if (!sa) return error(sa.error());
    if (sa->valid) {
      auto ok = fs_.setattr(cx_, *f.node, *sa);
      if (!ok) return error(ok.error());
    }
    if (!s.name.empty() && s.name != f.name) {
      if (!valid_name(s.name)) return error(errno_code(EINVAL));
      if (!f.parent) return error(errno_code(EBUSY));
      // stat(5): "it is an error to change the name to that of an existing file". In 9P2000
      // only: Linux's v9fs implements rename(2) with Twstat in 9P2000.u and relies on the
      // server replacing the target, as QEMU's does (mv over a file would fail otherwise).
      if (c_.dialect() == dialect::v2000 && fs_.walk(cx_, *f.parent, s.name))
        return error(errno_code(EEXIST));
      auto ok = fs_.rename(cx_, *f.node, *f.parent, s.name);
      if (!ok) return error(ok.error());
    }
    reply(Rwstat{});
  }

  void operator()(const Tstatfs&) {
    auto s = fs_.statfs(cx_, *r_.f1->node);
    if (!s) return error(s.error());
    reply(Rstatfs{s->type, s->bsize, s->blocks, s->bfree, s->bavail, s->files, s->ffree, s->fsid,
                  s->namelen});
  }

  void operator()(const Tsymlink& m) {
    auto q = fs_.symlink(cx_, *r_.f1->node, m.name, m.symtgt, m.gid);
    if (!q) return error(q.error());
    reply(Rsymlink{out(*q)});
  }
  void operator()(const Tmknod& m) {
    auto q = fs_.mknod(cx_, *r_.f1->node, m.name, m.mode, m.major, m.minor, m.gid);
    if (!q) return error(q.error());
    reply(Rmknod{out(*q)});
  }
  void operator()(const Tmkdir& m) {
    auto q = fs_.mkdir(cx_, *r_.f1->node, m.name, m.mode, m.gid);
    if (!q) return error(q.error());
    reply(Rmkdir{out(*q)});
  }
  void operator()(const Trename& m) {
    done(fs_.rename(cx_, *r_.f1->node, *r_.f2->node, m.name), Rrename{});
  }
  void operator()(const Trenameat& m) {
    done(fs_.renameat(cx_, *r_.f1->node, m.oldname, *r_.f2->node, m.newname), Rrenameat{});
  }
  void operator()(const Tunlinkat& m) {
    done(fs_.unlinkat(cx_, *r_.f1->node, m.name, m.flags), Runlinkat{});
  }
  void operator()(const Tlink& m) {
    done(fs_.link(cx_, *r_.f1->node, *r_.f2->node, m.name), Rlink{});
  }
  void operator()(const Tfsync& m) {
    done(fs_.fsync(cx_, *r_.f1->node, m.datasync != 0), Rfsync{});
  }
  void operator()(const Treadlink&) {
    auto t = fs_.readlink(cx_, *r_.f1->node);
    if (!t) return error(t.error());
    if (t->size() > 0xffff) return error(errno_code(ENAMETOOLONG));
    reply(Rreadlink{*t});
  }

  /// True when the operation completes later, through connection::complete().
  bool pending() const { return pending_; }

  /// Answers EXDEV when the request names fids of two filesystems (Trename, Trenameat, Tlink,
  /// a 9P2000.u hard link): no backend ever sees another's node. True if answered.
  bool crosses_filesystems() {
    if (!r_.f1 || !r_.f2 || r_.f2->kind == fid_state::kind::auth) return false;
    if (&fs_of(*r_.f1) == &fs_of(*r_.f2)) return false;
    error(errno_code(EXDEV));
    return true;
  }

  /// The network-thread fast paths (filesystem::try_read, try_getattr). True if answered.
  bool fast() {
    if (auto* rd = std::get_if<Tread>(&r_.msg.body)) {
      const fid_state& f = *r_.f1;
      if (f.kind != fid_state::kind::file || (f.qid.type & qt::dir)) return false;
      r_.payload = c_.sh().pools.get(rd->count);
      auto n = fs_.try_read(cx_, *f.node, rd->offset, r_.payload.span().first(rd->count));
      if (!n) return false;
      if (!*n) {
        error(n->error());
      } else {
        set(Rread{payload{r_.payload.span().first(**n)}});
      }
      return true;
    }
    if (auto* ga = std::get_if<Tgetattr>(&r_.msg.body)) {
      auto a = fs_.try_getattr(cx_, *r_.f1->node, ga->request_mask);
      if (!a) return false;
      getattr_reply(*a);
      return true;
    }
    return false;
  }

  void operator()(const Tgetattr& m) {
    getattr_reply(fs_.getattr(cx_, *r_.f1->node, m.request_mask));
  }

  void getattr_reply(const result<attr>& a) {
    if (!a) return error(a.error());
    reply(Rgetattr{a->valid,      out(a->qid),   a->mode,       a->uid,        a->gid,
                   a->nlink,      a->rdev,       a->size,       a->blksize,    a->blocks,
                   a->atime_sec,  a->atime_nsec, a->mtime_sec,  a->mtime_nsec, a->ctime_sec,
                   a->ctime_nsec, a->btime_sec,  a->btime_nsec, a->gen,        a->data_version});
  }

  void operator()(const Tsetattr& m) {
    set_attr a{m.valid,     m.mode,       m.uid,       m.gid,       m.size,
               m.atime_sec, m.atime_nsec, m.mtime_sec, m.mtime_nsec};
    done(fs_.setattr(cx_, *r_.f1->node, a), Rsetattr{});
  }

  void operator()(const Treaddir& m) {
    r_.payload = c_.sh().pools.get(m.count);
    dirent_writer entries(r_.payload.span().first(m.count), salt_);
    auto ok = fs_.readdir(cx_, *r_.f1->node, m.offset, entries);
    if (!ok) return error(ok.error());
    set(Rreaddir{payload{r_.payload.span().first(entries.used())}});
  }

  void operator()(const Txattrwalk& m) {
    auto v = fs_.xattr_get(cx_, *r_.f1->node, m.name);
    if (!v) return error(v.error());
    // The value stays in memory until the fid is clunked: bounded across all connections.
    if (!c_.sh().xattrs.take(v->size())) return error(errno_code(ENOMEM));
    auto extra = std::make_unique<fid_extra>();
    extra->budget = &c_.sh().xattrs;
    extra->charged = v->size();
    auto f = same_file();
    f->kind = fid_state::kind::xattr_read;
    f->extra = std::move(extra);
    f->extra->xattr = std::move(*v);
    r_.result = f;
    reply(Rxattrwalk{f->extra->xattr.size()});
  }

  void operator()(const Txattrcreate& m) {
    // The fid becomes the attribute being written; the value is set at clunk.
    if (!c_.sh().xattrs.take(m.attr_size)) return error(errno_code(ENOMEM));
    auto extra = std::make_unique<fid_extra>();
    extra->budget = &c_.sh().xattrs;
    extra->charged = m.attr_size;
    auto f = same_file();
    f->kind = fid_state::kind::xattr_write;
    f->extra = std::move(extra);
    f->extra->xattr_name = std::string(m.name);
    f->extra->xattr_size = m.attr_size;
    f->extra->xattr_flags = m.flags;
    r_.result = f;
    reply(Rxattrcreate{});
  }

  void operator()(const Tlock& m) {
    lock_request l{m.locktype, m.flags, m.start, m.length, m.proc_id, std::string(m.client_id)};
    auto s = fs_.lock(cx_, *r_.f1->node, l);
    if (!s) return error(s.error());
    reply(Rlock{*s});
  }

  void operator()(const Tgetlock& m) {
    lock_request l{m.locktype, 0, m.start, m.length, m.proc_id, std::string(m.client_id)};
    auto g = fs_.getlock(cx_, *r_.f1->node, l);
    if (!g) return error(g.error());
    reply(Rgetlock{g->type, g->start, g->length, g->proc_id, g->client_id});
  }

  // Everything else was answered on the network thread (version, flush, auth) or is a reply.
  template <class M>
  void operator()(const M&) {
    error(errno_code(EOPNOTSUPP));
  }

 private:
  void open(int flags, bool rclose, bool dotl) {
    fid_state& f = *r_.f1;
    // open(5): it is illegal to write a directory, truncate it, or remove it on close.
    if (!dotl && (f.qid.type & qt::dir) &&
        ((flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC) != 0 || rclose))
      return error(errno_code(EISDIR));
    auto o = fs_.open(cx_, *f.node, flags);
    if (!o) return error(o.error());
    auto n = same_file();
    n->qid = out(o->qid);
    n->open = true;
    n->flags = flags;
    n->rclose = rclose;
    if (o->qid.type & qt::dir) n->extra = std::make_unique<fid_extra>();  // directory reads
    r_.result = n;
    if (dotl)
      reply(Rlopen{n->qid, iounit(o->iounit)});
    else
      reply(Ropen{n->qid, iounit(o->iounit)});
  }

  // A new state for the fid of r_.f1 (open, xattrs, clone): the same file, in the same
  // filesystem.
  std::shared_ptr<fid_state> same_file() const {
    const fid_state& o = *r_.f1;
    auto f = std::make_shared<fid_state>();
    f->node = o.node;
    f->qid = o.qid;
    f->mnt = o.mnt;
    f->user = o.user;
    f->parent = o.parent;
    f->name = o.name;
    f->depth = o.depth;
    return f;
  }

  void install_created(node_ptr n, const qid& q, int flags, std::string_view name, bool rclose) {
    auto f = std::make_shared<fid_state>();
    f->node = std::move(n);
    f->qid = out(q);
    f->mnt = r_.f1->mnt;
    f->user = r_.f1->user;
    f->parent = r_.f1->node;
    f->name = std::string(name);
    f->depth = r_.f1->depth + 1;
    f->open = true;
    f->flags = flags;
    f->rclose = rclose;
    if (q.type & qt::dir) f->extra = std::make_unique<fid_extra>();  // directory reads
    r_.result = f;
  }

  // 9P2000/.u directory read: whole stat entries; offsets must continue where the last read
  // ended (or restart at 0), as read(5) requires.
  void read_dir_stats(const Tread& m) {
    if (!r_.f1->extra) return error(errno_code(EBADF));
    fid_extra& f = *r_.f1->extra;
    node& dir = *r_.f1->node;
    std::lock_guard lock(f.mu);
    if (m.offset == 0) {
      f.dir_offset = f.dir_cookie = 0;
      f.dir_pending.clear();
      f.dir_eof = false;
    } else if (m.offset != f.dir_offset) {
      return error(errno_code(EINVAL));
    }
    r_.payload = c_.sh().pools.get(m.count);
    std::span<std::byte> out = r_.payload.span().first(m.count);
    std::size_t used = 0;
    auto take_pending = [&]() -> bool {
      if (f.dir_pending.empty()) return true;
      if (f.dir_pending.size() > out.size() - used) return false;
      std::memcpy(out.data() + used, f.dir_pending.data(), f.dir_pending.size());
      used += f.dir_pending.size();
      f.dir_pending.clear();
      return true;
    };
    while (take_pending() && !f.dir_eof) {
      name_collector names(64);
      auto ok = fs_.readdir(cx_, dir, f.dir_cookie, names);
      if (!ok) return error(ok.error());
      if (names.entries.empty()) f.dir_eof = true;
      for (auto& e : names.entries) {
        f.dir_cookie = e.next;
        if (e.name == "." || e.name == "..") continue;
        auto w = fs_.walk(cx_, dir, e.name);
        if (!w) continue;  // removed since listed
        stat_strings keep;
        // A mount point's stat is its mounted root's, as a walk to it shows.
        auto st =
            stat_of(w->fs ? *w->fs : fs_, cx_, *w->node, e.name, c_.dialect(), c_.sh().users, keep);
        if (!st) continue;
        st->qid = salted(st->qid, salt_ ^ w->qid_salt);
        std::string enc(stat_size(*st, c_.dialect()), '\0');
        (void)encode_stat(*st, c_.dialect(),
                          {reinterpret_cast<std::byte*>(enc.data()), enc.size()});
        f.dir_pending = std::move(enc);
        if (!take_pending()) break;
      }
      if (!f.dir_pending.empty()) break;
    }
    if (used == 0 && !f.dir_pending.empty() && f.dir_pending.size() > out.size())
      return error(errno_code(EMSGSIZE));  // count too small for even one entry
    f.dir_offset += used;
    set(Rread{payload{out.first(used)}});
  }

  /// `q` from the fid's filesystem as the client sees it (mount.hpp).
  qid out(const qid& q) const { return salted(q, salt_); }
  filesystem& fs_of(const fid_state& f) const { return fs_in(f.mnt, *c_.sh().fs); }

  std::uint32_t iounit(std::uint32_t backend) const {
    // The kernel sizes its I/O by iounit: offer full msize unless the backend insists.
    std::uint32_t max = c_.msize() - wire::rread_header_size - 13;
    return backend == 0 ? max : std::min(backend, max);
  }
  void reply_data(std::span<const std::byte> data) {
    r_.payload = c_.sh().pools.get(data.size());
    if (!data.empty()) std::memcpy(r_.payload.data(), data.data(), data.size());
    set(Rread{payload{r_.payload.span().first(data.size())}});
  }
  template <class R>
  void done(const result<void>& ok, R reply_body) {
    if (!ok) return error(ok.error());
    reply(reply_body);
  }
  template <class R>
  void reply(const R& body) {
    c_.set_reply(r_, body);
  }
  void set(const message_body& body) { c_.set_reply(r_, body); }
  void error(std::error_code ec) { c_.set_error(r_, ec); }
  /// The error `ec`, and in 9P2000/.u `why` as its string (9P2000.L carries only the errno).
  void error(std::error_code ec, std::string_view why) {
    c_.set_error(r_, ec);
    if (c_.dialect() != dialect::v2000L)
      c_.set_reply(r_, Rerror{why, static_cast<std::uint32_t>(wire::to_errno(ec))});
  }

  static inline const ninep::server::user anonymous_{};
  bool pending_ = false;
  request& r_;
  connection& c_;
  filesystem& fs_;  ///< the filesystem of r_.f1 (the server's own for Tattach)
  std::uint64_t salt_;
  context cx_;
};

}  // namespace

bool execute(request& r) {
  if (r.stop.stop_requested()) {
    // Flushed before it started: nothing was done, so the reply can be suppressed.
    r.cancelled = true;
    return true;
  }
  handler h(r);
  if (h.crosses_filesystems()) return true;
  std::visit(h, r.msg.body);
  return !h.pending();
}

bool execute_fast(request& r) { return handler(r).fast(); }

int commit(request& r, std::unordered_map<fid_t, fid_ptr>& fids) {
  int added = 0;
  std::visit(
      [&]<class M>(const M& m) {
        auto install = [&](fid_t f) {
          auto [it, inserted] = fids.insert_or_assign(f, r.result);
          added += inserted ? 1 : 0;
        };
        if constexpr (std::is_same_v<M, Tattach> || std::is_same_v<M, Tlopen> ||
                      std::is_same_v<M, Topen> || std::is_same_v<M, Tlcreate> ||
                      std::is_same_v<M, Tcreate> || std::is_same_v<M, Txattrcreate>) {
          install(m.fid);
        } else if constexpr (std::is_same_v<M, Twalk> || std::is_same_v<M, Txattrwalk>) {
          install(m.newfid);
        }
      },
      r.msg.body);
  return added;
}

}  // namespace ninep::server::detail
