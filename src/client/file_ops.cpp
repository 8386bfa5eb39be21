// SPDX-License-Identifier: MIT
// The file API of session: paths, fids and the three dialects, on top of call() (session.cpp).
#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <cstring>
#include <ninep/client/session.hpp>
#include <ninep/core/error.hpp>
#include <ninep/wire/codec.hpp>
#include <ninep/wire/dotl.hpp>
#include <ninep/wire/stat.hpp>
#include <string>
#include <unordered_set>

#include "path.hpp"
#include "session_detail.hpp"

namespace ninep::client {
namespace {

using detail::as_tuple;
using detail::never;

std::error_code not_supported() { return std::make_error_code(std::errc::operation_not_supported); }

bool is_unsupported(std::error_code ec) {
  return ec == std::errc::operation_not_supported || ec == std::errc::function_not_supported;
}

/// Attributes of a 9P2000/.u stat entry (copies its strings).
attr attr_of(const wire::stat& s, wire::dialect d) {
  attr a;
  a.qid = s.qid;
  a.mode = wire::posix_mode(s.mode, d, s.extension);
  a.name = std::string(s.name);
  a.uname = std::string(s.uid);
  a.gname = std::string(s.gid);
  if (d == wire::dialect::v2000u) {
    a.uid = s.n_uid;
    a.gid = s.n_gid;
    a.extension = std::string(s.extension);
  }
  a.size = s.length;
  a.atime_sec = s.atime;
  a.mtime_sec = s.mtime;
  a.ctime_sec = s.mtime;
  return a;
}

attr attr_of(const wire::Rgetattr& g) {
  attr a;
  a.qid = g.qid;
  a.mode = g.mode;
  a.uid = g.uid;
  a.gid = g.gid;
  a.nlink = g.nlink;
  a.rdev = g.rdev;
  a.size = g.size;
  a.blksize = g.blksize;
  a.blocks = g.blocks;
  a.atime_sec = static_cast<std::int64_t>(g.atime_sec);
  a.atime_nsec = static_cast<std::int64_t>(g.atime_nsec);
  a.mtime_sec = static_cast<std::int64_t>(g.mtime_sec);
  a.mtime_nsec = static_cast<std::int64_t>(g.mtime_nsec);
  a.ctime_sec = static_cast<std::int64_t>(g.ctime_sec);
  a.ctime_nsec = static_cast<std::int64_t>(g.ctime_nsec);
  return a;
}

/// Whether a walk failed because the server holds its newfid already: "duplicate fid" (Plan 9
/// lib9p, go-p9p), "fid in use" (styx), or an errno a 9P2000.L server may send for it (EBADF from
/// ninep, EEXIST). A walk has no other reason to fail with EEXIST; with EBADF one retry is cheap.
bool newfid_taken(const error& e) {
  if (e == std::errc::bad_file_descriptor || e == std::errc::file_exists) return true;
  const std::string& t = e.text;
  return t.find("fid") != std::string::npos &&
         (t.find("duplicate") != std::string::npos || t.find("in use") != std::string::npos);
}

}  // namespace

template <class F>
asio::awaitable<void> session::parallel_for(std::size_t n, std::size_t depth, F f) {
  std::size_t next = 0;
  std::size_t active = std::min(n, std::max<std::size_t>(depth, 1));
  asio::steady_timer done(strand_, never);
  for (std::size_t k = 0, workers = active; k < workers; ++k) {
    asio::co_spawn(
        strand_,
        [&]() -> asio::awaitable<void> {
          while (next < n) co_await f(next++);
          if (--active == 0) done.cancel();
        },
        asio::detached);
  }
  while (active > 0) co_await done.async_wait(as_tuple);
}

asio::awaitable<outcome<file>> session::walk_from(wire::fid_t from,
                                                  std::span<const std::string> names,
                                                  const call_options& o) {
  auto first = co_await walk_once(from, names, o);
  if (first || !newfid_taken(first.error())) co_return first;
  // The server still holds the number we chose: try once more with another.
  co_return co_await walk_once(from, names, o);
}

asio::awaitable<outcome<file>> session::walk_once(wire::fid_t from,
                                                  std::span<const std::string> names,
                                                  const call_options& o) {
  wire::fid_t nf = take_fid();
  wire::qid q = from == root_fid_ ? root_qid_ : wire::qid{};
  std::size_t i = 0;
  bool created = false;
  do {
    wire::Twalk w;
    w.fid = created ? nf : from;
    w.newfid = nf;
    std::size_t k = std::min(wire::max_welem, names.size() - i);
    for (std::size_t j = 0; j < k; ++j) w.wnames.push_back(names[i + j]);
    auto r = co_await rpc<wire::Rwalk>(w, o);
    error err;
    if (!r)
      err = r.error();
    else if (r->qids.size() > k)
      err = error{make_error_code(errc::unexpected_reply),
                  "malformed Rwalk: " + std::to_string(r->qids.size()) + " qids for " +
                      std::to_string(k) + " names"};
    else if (r->qids.size() < k)
      err = std::make_error_code(std::errc::no_such_file_or_directory);
    if (err) {
      if (created)
        clunk_detached(nf);  // a partial walk leaves the fid where it was
      else if (!newfid_taken(err))
        give_fid(nf);  // else the server holds it: never hand it out again
      co_return fail(err);
    }
    if (k > 0) q = r->qids[k - 1];
    created = true;
    i += k;
  } while (i < names.size());
  co_return file(shared_from_this(), nf, q);
}

asio::awaitable<outcome<file>> session::walk(std::string_view path, call_options o) {
  const auto caller = co_await asio::this_coro::executor;
  if (off_strand(caller)) co_return co_await hop(walk(path, o));
  auto names = split_path(path);
  co_return co_await walk_from(root_fid_, names, o);
}

asio::awaitable<outcome<void>> session::clunk(file f, call_options o) {
  const auto caller = co_await asio::this_coro::executor;
  if (off_strand(caller)) co_return co_await hop(clunk(std::move(f), o));
  wire::fid_t fid = f.release();
  if (fid == wire::nofid) co_return outcome<void>{};
  auto r = co_await rpc<wire::Rclunk>(wire::Tclunk{fid}, o);
  if (r || r.error().category() == std::generic_category()) give_fid(fid);
  if (!r) co_return fail(r.error());
  co_return outcome<void>{};
}

asio::awaitable<outcome<attr>> session::stat_fid(wire::fid_t fid, const call_options& o) {
  if (dialect_ == wire::dialect::v2000L) {
    auto r = co_await rpc<wire::Rgetattr>(wire::Tgetattr{fid, wire::dotl::getattr_basic}, o);
    if (!r) co_return fail(r.error());
    co_return attr_of(*r);
  }
  auto r = co_await call(wire::Tstat{fid}, o);
  if (!r) co_return fail(r.error());
  co_return attr_of(std::get<wire::Rstat>(r->msg.body).stat, dialect_);
}

asio::awaitable<outcome<attr>> session::stat(std::string_view path, call_options o) {
  const auto caller = co_await asio::this_coro::executor;
  if (off_strand(caller)) co_return co_await hop(stat(path, o));
  auto f = co_await walk(path, o);
  if (!f) co_return fail(f.error());
  auto a = co_await stat_fid(f->fid(), o);
  co_await clunk(std::move(*f), o);
  co_return a;
}

asio::awaitable<outcome<attr>> session::stat(const file& f, call_options o) {
  const auto caller = co_await asio::this_coro::executor;
  if (off_strand(caller)) co_return co_await hop(stat(f, o));
  co_return co_await stat_fid(f.fid(), o);
}

asio::awaitable<outcome<void>> session::open_fid(file& f, std::uint32_t flags,
                                                 const call_options& o) {
  if (dialect_ == wire::dialect::v2000L) {
    auto r = co_await rpc<wire::Rlopen>(wire::Tlopen{f.fid(), flags}, o);
    if (!r) co_return fail(r.error());
    f.qid_ = r->qid;
    f.iounit_ = r->iounit;
  } else {
    auto r = co_await rpc<wire::Ropen>(wire::Topen{f.fid(), wire::open_mode(flags)}, o);
    if (!r) co_return fail(r.error());
    f.qid_ = r->qid;
    f.iounit_ = r->iounit;
  }
  f.open_ = true;
  co_return outcome<void>{};
}

asio::awaitable<outcome<file>> session::open(std::string_view path, std::uint32_t flags,
                                             call_options o) {
  const auto caller = co_await asio::this_coro::executor;
  if (off_strand(caller)) co_return co_await hop(open(path, flags, o));
  auto f = co_await walk(path, o);
  if (!f) co_return fail(f.error());
  auto r = co_await open_fid(*f, flags, o);
  if (!r) co_return fail(r.error());
  co_return std::move(*f);
}

asio::awaitable<outcome<file>> session::create(std::string_view path, std::uint32_t flags,
                                               std::uint32_t mode, call_options o) {
  const auto caller = co_await asio::this_coro::executor;
  if (off_strand(caller)) co_return co_await hop(create(path, flags, mode, o));
  auto [dir, name] = split_parent(path);
  if (name.empty()) co_return fail(std::make_error_code(std::errc::invalid_argument));
  auto f = co_await walk(dir, o);
  if (!f) co_return fail(f.error());
  // Both Tlcreate and Tcreate turn the directory fid into the new, open file.
  if (dialect_ == wire::dialect::v2000L) {
    auto r = co_await rpc<wire::Rlcreate>(
        wire::Tlcreate{f->fid(), name, flags & ~wire::dotl::create, mode, opts_.n_gid}, o);
    if (!r) co_return fail(r.error());
    f->qid_ = r->qid;
    f->iounit_ = r->iounit;
  } else {
    wire::Tcreate c{f->fid(), name, mode & 0777, wire::open_mode(flags), {}};
    auto r = co_await rpc<wire::Rcreate>(c, o);
    if (!r) co_return fail(r.error());
    f->qid_ = r->qid;
    f->iounit_ = r->iounit;
  }
  f->open_ = true;
  co_return std::move(*f);
}

asio::awaitable<outcome<std::size_t>> session::transfer(const file& f, std::uint64_t offset,
                                                        std::span<std::byte> in,
                                                        std::span<const std::byte> out,
                                                        const call_options& o) {
  const bool reading = !in.empty();
  const std::size_t total = reading ? in.size() : out.size();
  if (total == 0) co_return std::size_t{0};
  const std::size_t chunk = max_io(f.iounit());
  const std::size_t chunks = (total + chunk - 1) / chunk;
  std::size_t end = total;  // the first short transfer ends the result
  std::error_code err;
  const wire::fid_t fid = f.fid();
  co_await parallel_for(chunks, opts_.pipeline_depth, [&](std::size_t i) -> asio::awaitable<void> {
    std::size_t off = i * chunk;
    if (off >= end || err) co_return;
    auto len = static_cast<std::uint32_t>(std::min(chunk, total - off));
    if (reading) {
      auto r = co_await call(wire::Tread{fid, offset + off, len}, o);
      if (!r) {
        if (!err) err = r.error();
        co_return;
      }
      // tag_table::match has checked that the count is at most len.
      auto data = std::get<wire::Rread>(r->msg.body).data.data;
      if (!data.empty()) std::memcpy(in.data() + off, data.data(), data.size());
      if (data.size() < len) end = std::min(end, off + data.size());
    } else {
      auto r = co_await rpc<wire::Rwrite>(
          wire::Twrite{fid, offset + off, wire::payload{out.subspan(off, len)}}, o);
      if (!r) {
        if (!err) err = r.error();
        co_return;
      }
      if (r->count > len) {
        if (!err) err = make_error_code(errc::unexpected_reply);
        co_return;
      }
      if (r->count < len) end = std::min(end, off + r->count);
    }
  });
  if (err) co_return fail(err);
  co_return end;
}

asio::awaitable<outcome<std::size_t>> session::read(const file& f, std::uint64_t offset,
                                                    std::span<std::byte> out, call_options o) {
  const auto caller = co_await asio::this_coro::executor;
  if (off_strand(caller)) co_return co_await hop(read(f, offset, out, o));
  co_return co_await transfer(f, offset, out, {}, o);
}

asio::awaitable<outcome<std::size_t>> session::write(const file& f, std::uint64_t offset,
                                                     std::span<const std::byte> data,
                                                     call_options o) {
  const auto caller = co_await asio::this_coro::executor;
  if (off_strand(caller)) co_return co_await hop(write(f, offset, data, o));
  co_return co_await transfer(f, offset, {}, data, o);
}

asio::awaitable<outcome<std::vector<dir_entry>>> session::readdir(std::string_view path,
                                                                  bool with_attr, call_options o) {
  const auto caller = co_await asio::this_coro::executor;
  if (off_strand(caller)) co_return co_await hop(readdir(path, with_attr, o));
  std::vector<dir_entry> entries;
  auto d = co_await open(path, wire::dotl::rdonly, o);
  if (!d) co_return fail(d.error());
  const std::uint32_t count = max_io(d->iounit());
  std::uint64_t offset = 0;
  // A hostile or broken server must not make a listing endless or unbounded: every name may
  // appear once, every 9P2000.L read must move the offset, and the whole costs at most
  // max_listing_bytes.
  std::unordered_set<std::string> seen;
  std::size_t cost = 0;
  auto add = [&](std::string_view name, const wire::qid& q,
                 std::optional<attr> a) -> std::optional<error> {
    if (name == "." || name == "..") return std::nullopt;
    cost += sizeof(dir_entry) + 2 * name.size() + 64;  // the entry, and its copy in `seen`
    if (cost > opts_.max_listing_bytes)
      return error{std::make_error_code(std::errc::file_too_large),
                   "listing exceeds " + std::to_string(opts_.max_listing_bytes) + " bytes"};
    if (!seen.emplace(name).second)
      return error{make_error_code(errc::unexpected_reply),
                   "malformed listing: the server repeats entry \"" + std::string(name) + "\""};
    entries.push_back({std::string(name), q, std::move(a)});
    return std::nullopt;
  };
  std::vector<std::size_t> odd;  // 9P2000/.u entries whose qid and mode disagree on the type
  for (;;) {
    if (dialect_ == wire::dialect::v2000L) {
      auto r = co_await call(wire::Treaddir{d->fid(), offset, count}, o);
      if (!r) co_return fail(r.error());
      auto data = std::get<wire::Rreaddir>(r->msg.body).data.data;
      if (data.empty()) break;
      const std::uint64_t asked = offset;
      while (!data.empty()) {
        auto e = wire::decode_dirent(data);
        if (!e) co_return fail(error{e.error(), "malformed Rreaddir: " + e.error().message()});
        data = data.subspan(e->size);
        offset = e->value.offset;
        if (auto err = add(e->value.name, e->value.qid, std::nullopt)) co_return fail(*err);
      }
      if (offset == asked)
        co_return fail(
            error{make_error_code(errc::unexpected_reply),
                  "malformed Rreaddir: the offset does not advance past " + std::to_string(asked)});
    } else {
      // 9P2000 directories are read in order: each offset is where the last read ended.
      auto r = co_await call(wire::Tread{d->fid(), offset, count}, o);
      if (!r) co_return fail(r.error());
      auto data = std::get<wire::Rread>(r->msg.body).data.data;
      if (data.empty()) break;
      offset += data.size();
      while (!data.empty()) {
        auto e = wire::decode_stat(data, dialect_);
        if (!e)
          co_return fail(error{e.error(), "malformed directory entry: " + e.error().message()});
        data = data.subspan(e->size);
        attr a = attr_of(e->value, dialect_);
        bool qid_dir = (e->value.qid.type & wire::qt::dir) != 0;
        if (qid_dir != a.is_dir() && e->value.name != "." && e->value.name != "..")
          odd.push_back(entries.size());
        if (auto err = add(e->value.name, e->value.qid, std::move(a))) co_return fail(*err);
      }
    }
  }
  if (!odd.empty()) {
    // libixp's example server marks directories as files in qids and sends garbage attributes:
    // when a listing contradicts itself, a stat of the file decides.
    auto dir = co_await walk(path, o);
    if (!dir) co_return fail(dir.error());
    std::error_code err;
    co_await parallel_for(odd.size(), opts_.pipeline_depth,
                          [&](std::size_t i) -> asio::awaitable<void> {
                            dir_entry& e = entries[odd[i]];
                            auto f = co_await walk_from(dir->fid(), std::span(&e.name, 1), o);
                            if (!f) co_return;  // removed since the listing: as listed
                            auto a = co_await stat_fid(f->fid(), o);
                            if (a) {
                              e.qid = a->qid;
                              e.attr = std::move(*a);
                            } else if (!err) {
                              err = a.error();
                            }
                            co_await clunk(std::move(*f), o);
                          });
    co_await clunk(std::move(*dir), o);
    if (err) co_return fail(err);
  }
  co_await clunk(std::move(*d), o);
  if (with_attr && dialect_ == wire::dialect::v2000L && !entries.empty()) {
    // One unopened fid for the directory; each entry is a one-element walk from it.
    auto dir = co_await walk(path, o);
    if (!dir) co_return fail(dir.error());
    std::error_code err;
    co_await parallel_for(entries.size(), opts_.pipeline_depth,
                          [&](std::size_t i) -> asio::awaitable<void> {
                            std::string name = entries[i].name;
                            auto f = co_await walk_from(dir->fid(), std::span(&name, 1), o);
                            if (!f) {
                              // Removed since the listing: leave it without attributes.
                              if (f.error() != std::errc::no_such_file_or_directory && !err)
                                err = f.error();
                              co_return;
                            }
                            auto a = co_await stat_fid(f->fid(), o);
                            if (a)
                              entries[i].attr = std::move(*a);
                            else if (!err)
                              err = a.error();
                            co_await clunk(std::move(*f), o);
                          });
    co_await clunk(std::move(*dir), o);
    if (err) co_return fail(err);
  }
  co_return entries;
}

asio::awaitable<outcome<void>> session::setattr(std::string_view path, set_attr a, call_options o) {
  const auto caller = co_await asio::this_coro::executor;
  if (off_strand(caller)) co_return co_await hop(setattr(path, a, o));
  auto f = co_await walk(path, o);
  if (!f) co_return fail(f.error());
  outcome<void> out;
  if (dialect_ == wire::dialect::v2000L) {
    wire::Tsetattr s;
    s.fid = f->fid();
    if (a.mode) s.valid |= wire::dotl::setattr_mode, s.mode = *a.mode & 07777;
    if (a.uid) s.valid |= wire::dotl::setattr_uid, s.uid = *a.uid;
    if (a.gid) s.valid |= wire::dotl::setattr_gid, s.gid = *a.gid;
    if (a.size) s.valid |= wire::dotl::setattr_size, s.size = *a.size;
    if (a.atime) {
      s.valid |= wire::dotl::setattr_atime | wire::dotl::setattr_atime_set;
      s.atime_sec = static_cast<std::uint64_t>(a.atime->sec);
      s.atime_nsec = static_cast<std::uint64_t>(a.atime->nsec);
    }
    if (a.mtime) {
      s.valid |= wire::dotl::setattr_mtime | wire::dotl::setattr_mtime_set;
      s.mtime_sec = static_cast<std::uint64_t>(a.mtime->sec);
      s.mtime_nsec = static_cast<std::uint64_t>(a.mtime->nsec);
    }
    auto r = co_await rpc<wire::Rsetattr>(s, o);
    if (!r) out = fail(r.error());
  } else {
    wire::stat s = wire::stat::unchanged();
    if (a.mode) {
      // wstat may not change the file's kind: keep the dm bits of the current mode.
      auto cur = co_await call(wire::Tstat{f->fid()}, o);
      if (!cur) co_return fail(cur.error());
      std::uint32_t m = std::get<wire::Rstat>(cur->msg.body).stat.mode;
      s.mode = (m & ~0777u) | (*a.mode & 0777);
    }
    if ((a.uid || a.gid) && dialect_ == wire::dialect::v2000) co_return fail(not_supported());
    if (a.uid) s.n_uid = *a.uid;
    if (a.gid) s.n_gid = *a.gid;
    if (a.size) s.length = *a.size;
    if (a.atime) s.atime = static_cast<std::uint32_t>(a.atime->sec);
    if (a.mtime) s.mtime = static_cast<std::uint32_t>(a.mtime->sec);
    auto r = co_await rpc<wire::Rwstat>(wire::Twstat{f->fid(), s}, o);
    if (!r) out = fail(r.error());
  }
  co_await clunk(std::move(*f), o);
  co_return out;
}

asio::awaitable<outcome<void>> session::remove(std::string_view path, call_options o) {
  const auto caller = co_await asio::this_coro::executor;
  if (off_strand(caller)) co_return co_await hop(remove(path, o));
  auto [dir, name] = split_parent(path);
  if (name.empty()) co_return fail(std::make_error_code(std::errc::device_or_resource_busy));
  if (dialect_ == wire::dialect::v2000L) {
    auto d = co_await walk(dir, o);
    if (!d) co_return fail(d.error());
    auto r = co_await rpc<wire::Runlinkat>(wire::Tunlinkat{d->fid(), name, 0}, o);
    if (!r && r.error() == std::errc::is_a_directory)
      r = co_await rpc<wire::Runlinkat>(wire::Tunlinkat{d->fid(), name, wire::dotl::at_removedir},
                                        o);
    co_await clunk(std::move(*d), o);
    // v9fs falls back to Tremove only on EOPNOTSUPP; any other errno is final.
    if (r) co_return outcome<void>{};
    if (!is_unsupported(r.error())) co_return fail(r.error());
  }
  auto f = co_await walk(path, o);
  if (!f) co_return fail(f.error());
  wire::fid_t fid = f->release();  // remove(5) clunks the fid, whatever the outcome
  auto r = co_await rpc<wire::Rremove>(wire::Tremove{fid}, o);
  if (r || r.error().category() == std::generic_category()) give_fid(fid);
  if (!r) co_return fail(r.error());
  co_return outcome<void>{};
}

asio::awaitable<outcome<void>> session::rename(std::string_view from, std::string_view to,
                                               call_options o) {
  const auto caller = co_await asio::this_coro::executor;
  if (off_strand(caller)) co_return co_await hop(rename(from, to, o));
  auto [fdir, fname] = split_parent(from);
  auto [tdir, tname] = split_parent(to);
  if (fname.empty() || tname.empty())
    co_return fail(std::make_error_code(std::errc::invalid_argument));
  if (dialect_ == wire::dialect::v2000L) {
    auto od = co_await walk(fdir, o);
    if (!od) co_return fail(od.error());
    auto nd = co_await walk(tdir, o);
    if (!nd) co_return fail(nd.error());
    auto r = co_await rpc<wire::Rrenameat>(wire::Trenameat{od->fid(), fname, nd->fid(), tname}, o);
    if (!r && is_unsupported(r.error())) {
      auto f = co_await walk_from(od->fid(), std::span(&fname, 1), o);
      if (!f) co_return fail(f.error());
      auto rr = co_await rpc<wire::Rrename>(wire::Trename{f->fid(), nd->fid(), tname}, o);
      co_await clunk(std::move(*f), o);
      if (!rr) co_return fail(rr.error());
      r = wire::Rrenameat{};
    }
    co_await clunk(std::move(*od), o);
    co_await clunk(std::move(*nd), o);
    if (!r) co_return fail(r.error());
    co_return outcome<void>{};
  }
  // 9P2000/.u: wstat renames within the directory only.
  if (join_path(split_path(fdir)) != join_path(split_path(tdir))) co_return fail(not_supported());
  auto f = co_await walk(from, o);
  if (!f) co_return fail(f.error());
  wire::stat s = wire::stat::unchanged();
  s.name = tname;
  auto r = co_await rpc<wire::Rwstat>(wire::Twstat{f->fid(), s}, o);
  co_await clunk(std::move(*f), o);
  if (!r) co_return fail(r.error());
  co_return outcome<void>{};
}

asio::awaitable<outcome<void>> session::mkdir(std::string_view path, std::uint32_t mode,
                                              call_options o) {
  const auto caller = co_await asio::this_coro::executor;
  if (off_strand(caller)) co_return co_await hop(mkdir(path, mode, o));
  auto [dir, name] = split_parent(path);
  if (name.empty()) co_return fail(std::make_error_code(std::errc::file_exists));
  auto d = co_await walk(dir, o);
  if (!d) co_return fail(d.error());
  if (dialect_ == wire::dialect::v2000L) {
    auto r = co_await rpc<wire::Rmkdir>(wire::Tmkdir{d->fid(), name, mode & 07777, opts_.n_gid}, o);
    co_await clunk(std::move(*d), o);
    if (!r) co_return fail(r.error());
    co_return outcome<void>{};
  }
  auto r = co_await rpc<wire::Rcreate>(
      wire::Tcreate{d->fid(), name, wire::dm::dir | (mode & 0777), wire::omode::read, {}}, o);
  co_await clunk(std::move(*d), o);  // now the new directory, opened
  if (!r) co_return fail(r.error());
  co_return outcome<void>{};
}

asio::awaitable<outcome<void>> session::symlink(std::string_view target, std::string_view path,
                                                call_options o) {
  const auto caller = co_await asio::this_coro::executor;
  if (off_strand(caller)) co_return co_await hop(symlink(target, path, o));
  if (dialect_ == wire::dialect::v2000) co_return fail(not_supported());
  auto [dir, name] = split_parent(path);
  if (name.empty()) co_return fail(std::make_error_code(std::errc::file_exists));
  auto d = co_await walk(dir, o);
  if (!d) co_return fail(d.error());
  outcome<void> out;
  if (dialect_ == wire::dialect::v2000L) {
    auto r = co_await rpc<wire::Rsymlink>(wire::Tsymlink{d->fid(), name, target, opts_.n_gid}, o);
    if (!r) out = fail(r.error());
  } else {
    auto r = co_await rpc<wire::Rcreate>(
        wire::Tcreate{d->fid(), name, wire::dm::symlink | 0777, wire::omode::read, target}, o);
    if (!r) out = fail(r.error());
  }
  co_await clunk(std::move(*d), o);
  co_return out;
}

asio::awaitable<outcome<void>> session::link(std::string_view existing, std::string_view path,
                                             call_options o) {
  const auto caller = co_await asio::this_coro::executor;
  if (off_strand(caller)) co_return co_await hop(link(existing, path, o));
  if (dialect_ == wire::dialect::v2000) co_return fail(not_supported());
  auto [dir, name] = split_parent(path);
  if (name.empty()) co_return fail(std::make_error_code(std::errc::file_exists));
  auto f = co_await walk(existing, o);
  if (!f) co_return fail(f.error());
  auto d = co_await walk(dir, o);
  if (!d) co_return fail(d.error());
  outcome<void> out;
  if (dialect_ == wire::dialect::v2000L) {
    auto r = co_await rpc<wire::Rlink>(wire::Tlink{d->fid(), f->fid(), name}, o);
    if (!r) out = fail(r.error());
  } else {
    std::string ext = std::to_string(f->fid()) + "\n";
    auto r = co_await rpc<wire::Rcreate>(
        wire::Tcreate{d->fid(), name, wire::dm::link, wire::omode::read, ext}, o);
    if (!r) out = fail(r.error());
  }
  co_await clunk(std::move(*d), o);
  co_await clunk(std::move(*f), o);
  co_return out;
}

asio::awaitable<outcome<std::string>> session::readlink(std::string_view path, call_options o) {
  const auto caller = co_await asio::this_coro::executor;
  if (off_strand(caller)) co_return co_await hop(readlink(path, o));
  if (dialect_ == wire::dialect::v2000) co_return fail(not_supported());
  auto f = co_await walk(path, o);
  if (!f) co_return fail(f.error());
  outcome<std::string> out;
  if (dialect_ == wire::dialect::v2000L) {
    auto r = co_await call(wire::Treadlink{f->fid()}, o);
    if (r)
      out = std::string(std::get<wire::Rreadlink>(r->msg.body).target);
    else
      out = fail(r.error());
  } else {
    auto a = co_await stat_fid(f->fid(), o);
    if (!a)
      out = fail(a.error());
    else if (!a->is_symlink())
      out = fail(std::make_error_code(std::errc::invalid_argument));
    else
      out = std::move(a->extension);
  }
  co_await clunk(std::move(*f), o);
  co_return out;
}

asio::awaitable<outcome<void>> session::fsync(const file& f, call_options o) {
  const auto caller = co_await asio::this_coro::executor;
  if (off_strand(caller)) co_return co_await hop(fsync(f, o));
  if (dialect_ == wire::dialect::v2000L) {
    auto r = co_await rpc<wire::Rfsync>(wire::Tfsync{f.fid(), 0}, o);
    if (!r) co_return fail(r.error());
    co_return outcome<void>{};
  }
  // stat(5): a wstat with every field "don't touch" asks the server to commit the file.
  auto r = co_await rpc<wire::Rwstat>(wire::Twstat{f.fid(), wire::stat::unchanged()}, o);
  if (!r) co_return fail(r.error());
  co_return outcome<void>{};
}

asio::awaitable<outcome<fs_stat>> session::statfs(std::string_view path, call_options o) {
  const auto caller = co_await asio::this_coro::executor;
  if (off_strand(caller)) co_return co_await hop(statfs(path, o));
  if (dialect_ != wire::dialect::v2000L) co_return fail(not_supported());
  auto f = co_await walk(path, o);
  if (!f) co_return fail(f.error());
  auto r = co_await rpc<wire::Rstatfs>(wire::Tstatfs{f->fid()}, o);
  co_await clunk(std::move(*f), o);
  co_return r;
}

}  // namespace ninep::client