// SPDX-License-Identifier: MIT
#include <algorithm>
#include <array>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <cerrno>
#include <cstring>
#include <ninep/client/session.hpp>
#include <ninep/core/error.hpp>
#include <ninep/wire/codec.hpp>
#include <ninep/wire/dotl.hpp>
#include <ninep/wire/errors.hpp>
#include <string>
#include <unordered_set>

#include "munge.hpp"
#include "path.hpp"

namespace ninep::client {
namespace {

constexpr auto as_tuple = asio::experimental::as_tuple(asio::use_awaitable);
constexpr auto never = std::chrono::steady_clock::time_point::max();
// 9P2000.u hard links: Tcreate with this perm and the old fid in the extension (Linux v9fs).
constexpr std::uint32_t dm_link = 0x01000000;
// Topen/Tcreate modes (open(5)).
constexpr std::uint8_t oread = 0, otrunc = 0x10;

std::error_code not_supported() { return std::make_error_code(std::errc::operation_not_supported); }

bool is_unsupported(std::error_code ec) {
  return ec == std::errc::operation_not_supported || ec == std::errc::function_not_supported;
}

/// Attributes of a 9P2000/.u stat entry (copies its strings).
attr attr_of(const wire::stat& s, wire::dialect d) {
  attr a;
  a.qid = s.qid;
  a.mode = s.mode & 0777;
  if (s.mode & wire::dm::dir) {
    a.mode |= mode_bits::ifdir;
  } else if (s.mode & wire::dm::symlink) {
    a.mode |= mode_bits::iflnk;
  } else if (s.mode & wire::dm::device) {
    a.mode |= !s.extension.empty() && s.extension[0] == 'b' ? mode_bits::ifblk : mode_bits::ifchr;
  } else if (s.mode & wire::dm::namedpipe) {
    a.mode |= mode_bits::ififo;
  } else if (s.mode & wire::dm::socket) {
    a.mode |= mode_bits::ifsock;
  } else {
    a.mode |= mode_bits::ifreg;
  }
  if (s.mode & wire::dm::setuid) a.mode |= 04000;
  if (s.mode & wire::dm::setgid) a.mode |= 02000;
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

/// A reply that does not answer its request properly, named: "malformed Rwalk: ...".
error malformed(std::span<const std::byte> frame, std::error_code why) {
  std::string_view name = wire::type_name(static_cast<std::uint8_t>(frame[4]));
  return {why, "malformed " + (name.empty() ? "reply" : std::string(name)) + ": " + why.message()};
}

/// A Twstat stat whose every field means "don't touch" (stat(5)).
wire::stat dont_touch() {
  wire::stat s;
  s.type = 0xffff;
  s.dev = 0xffffffff;
  s.qid = {0xff, 0xffffffff, 0xffffffffffffffff};
  s.mode = 0xffffffff;
  s.atime = 0xffffffff;
  s.mtime = 0xffffffff;
  s.length = 0xffffffffffffffff;
  return s;
}

}  // namespace

/// One call in flight. Pooled: the timers are made once and reused.
struct session::pending {
  explicit pending(const strand_type& s) : event(s, never), deadline(s) {}
  enum class state : std::uint8_t { idle, queued, writing, sent, done };
  asio::steady_timer event;  // never expires; cancel() wakes the waiting call
  asio::steady_timer deadline;
  state st = state::idle;
  wire::tag_t tag = 0;
  std::optional<outcome<reply>> answer;
  std::error_code cancel_ec;  // cancelled while its bytes were being written
  std::uint64_t gen = 0;      // bumped on reuse: stale timer and stop callbacks check it
  void signal() { event.cancel(); }
};

// file ----------------------------------------------------------------------------------------

file& file::operator=(file&& o) noexcept {
  if (this != &o) {
    if (s_ && fid_ != wire::nofid) s_->clunk_detached(fid_);
    s_ = std::move(o.s_);
    fid_ = std::exchange(o.fid_, wire::nofid);
    qid_ = o.qid_;
    iounit_ = o.iounit_;
    open_ = std::exchange(o.open_, false);
  }
  return *this;
}

file::~file() {
  if (s_ && fid_ != wire::nofid) s_->clunk_detached(fid_);
}

wire::fid_t file::release() noexcept {
  open_ = false;
  return std::exchange(fid_, wire::nofid);
}

// session: connection ------------------------------------------------------------------------

session::session(transport::stream s, options o)
    : sock_(std::move(s)),
      strand_(asio::make_strand(sock_.get_executor())),
      opts_(std::move(o)),
      pools_(transport::frame_pools::make(opts_.msize)),
      slots_(4096) {
  if (opts_.pipeline_depth == 0) opts_.pipeline_depth = 1;
}

session::~session() = default;

asio::awaitable<outcome<std::shared_ptr<session>>> session::start(transport::stream s, options o) {
  std::shared_ptr<session> self(new session(std::move(s), std::move(o)));
  // The handshake's reads wait for no deadline of their own: past connect_timeout the timer
  // fails the connection, which ends them.
  asio::steady_timer limit(self->strand_);
  auto expired = std::make_shared<bool>(false);
  if (self->opts_.connect_timeout.count() > 0) {
    limit.expires_after(self->opts_.connect_timeout);
    limit.async_wait([self, expired](std::error_code ec) {
      if (ec) return;
      *expired = true;
      self->fail_all(std::make_error_code(std::errc::timed_out));
    });
  }
  auto r = co_await asio::co_spawn(self->strand_, self->handshake(), asio::use_awaitable);
  co_await asio::co_spawn(
      self->strand_,
      [&limit]() -> asio::awaitable<void> {
        limit.cancel();
        co_return;
      },
      asio::use_awaitable);
  if (!r) {
    self->close();
    co_return fail(*expired ? error{std::make_error_code(std::errc::timed_out)} : r.error());
  }
  co_return self;
}

void session::close() {
  asio::post(strand_, [self = shared_from_this()] {
    self->fail_all(make_error_code(errc::connection_closed));
  });
}

asio::awaitable<void> session::shutdown(call_options o) {
  auto impl = [this](call_options opt) -> asio::awaitable<void> {
    if (!failed_ && flushes_unanswered_ == 0)
      co_await rpc<wire::Rclunk>(wire::Tclunk{root_fid_}, opt);
    fail_all(make_error_code(errc::connection_closed));
  };
  co_await asio::co_spawn(strand_, impl(std::move(o)), asio::use_awaitable);
}

std::uint32_t session::max_io(std::uint32_t iounit) const noexcept {
  std::uint32_t m = msize_ - static_cast<std::uint32_t>(wire::io_header_size);
  return iounit != 0 && iounit < m ? iounit : m;
}

asio::awaitable<outcome<void>> session::handshake() {
  reader_ = std::make_unique<transport::frame_reader>(sock_, pools_);
  std::vector<wire::dialect> offers;
  if (opts_.dialect)
    offers = {*opts_.dialect};
  else
    offers = {wire::dialect::v2000L, wire::dialect::v2000u, wire::dialect::v2000};
  for (wire::dialect d : offers) {
    wire::message m{wire::notag, wire::Tversion{opts_.msize, wire::version_string(d)}};
    std::array<std::byte, 64> buf;
    auto n = wire::encode(m, d, buf);
    if (!n) co_return fail(n.error());
    auto [ec, written] = co_await asio::async_write(sock_, asio::buffer(buf.data(), *n), as_tuple);
    if (ec) co_return fail(ec);
    auto f = co_await reader_->read(opts_.msize, opts_.frame_timeout);
    if (!f) co_return fail(f.error());
    // Rversion and Rerror exist in every dialect; 9P2000 reads both.
    auto r = wire::decode(f->span(), wire::dialect::v2000, opts_.msize);
    // A 9P2000.L-only server (diod) refuses other versions with Rlerror.
    if (!r && r.error() == errc::unknown_type)
      r = wire::decode(f->span(), wire::dialect::v2000L, opts_.msize);
    if (!r) co_return fail(r.error());
    if (r->tag != wire::notag) co_return fail(make_error_code(errc::unexpected_reply));
    if (wire::error_of(r->body)) {
      if (opts_.dialect) co_return fail(make_error_code(errc::unsupported_version));
      continue;
    }
    const auto* rv = std::get_if<wire::Rversion>(&r->body);
    if (rv == nullptr) co_return fail(make_error_code(errc::unexpected_reply));
    std::optional<wire::dialect> got;
    for (wire::dialect c : {wire::dialect::v2000L, wire::dialect::v2000u, wire::dialect::v2000})
      if (rv->version == wire::version_string(c)) got = c;
    // The server may only step down (.L -> .u -> 9P2000), never up.
    if (!got || static_cast<int>(*got) > static_cast<int>(d)) {
      if (opts_.dialect || rv->version.substr(0, 6) == "9P2000")
        co_return fail(make_error_code(errc::unsupported_version));
      continue;  // "unknown": offer the next dialect
    }
    if (opts_.dialect && *got != *opts_.dialect)
      co_return fail(make_error_code(errc::unsupported_version));
    if (rv->msize < wire::min_msize || rv->msize > opts_.msize)
      co_return fail(make_error_code(errc::bad_size));
    dialect_ = *got;
    msize_ = rv->msize;
    tags_.configure(dialect_, msize_);
    asio::co_spawn(strand_, read_loop(shared_from_this()), asio::detached);

    root_fid_ = take_fid();
    wire::fid_t afid = wire::nofid;
    if (opts_.auth == "munge") {
      auto af = co_await authenticate_munge();
      if (!af) co_return fail(af.error());
      afid = *af;
    }
    wire::Tattach a{root_fid_, afid, opts_.uname, opts_.aname, opts_.n_uname};
    auto at = co_await rpc<wire::Rattach>(a, {});
    if (afid != wire::nofid) {
      // The afid has done its work (the connection stays authenticated, as diod's does).
      if (co_await rpc<wire::Rclunk>(wire::Tclunk{afid}, {})) give_fid(afid);
    }
    if (!at) co_return fail(at.error());
    root_qid_ = at->qid;
    co_return outcome<void>{};
  }
  co_return fail(make_error_code(errc::unsupported_version));
}

// diod's MUNGE handshake: Tauth gives an afid; the credential is written to it from offset 0,
// in as many Twrites as msize needs; Tattach then names the afid.
asio::awaitable<result<wire::fid_t>> session::authenticate_munge() {
  std::string why;
  auto cred = detail::munge_credential(opts_.munge_socket, why);
  if (!cred) co_return fail(cred.error());
  wire::fid_t afid = take_fid();
  auto ra =
      co_await rpc<wire::Rauth>(wire::Tauth{afid, opts_.uname, opts_.aname, opts_.n_uname}, {});
  if (!ra) {
    // ENOENT: the server needs no authentication (diod's and ours without MUNGE).
    give_fid(afid);
    if (ra.error() == errno_code(ENOENT)) co_return wire::nofid;
    co_return fail(ra.error());
  }
  const auto bytes = std::as_bytes(std::span(cred->data(), cred->size()));
  for (std::size_t off = 0; off < bytes.size();) {
    const std::size_t n = std::min<std::size_t>(bytes.size() - off, msize_ - wire::io_header_size);
    auto w = co_await rpc<wire::Rwrite>(
        wire::Twrite{afid, off, wire::payload{bytes.subspan(off, n)}}, {});
    if (!w) co_return fail(w.error());
    if (w->count == 0 || w->count > n) co_return fail(errno_code(EIO));
    off += w->count;
  }
  co_return afid;
}

std::unique_ptr<session::pending> session::acquire_pending() {
  if (pending_pool_.empty()) return std::make_unique<pending>(strand_);
  auto p = std::move(pending_pool_.back());
  pending_pool_.pop_back();
  return p;
}

void session::recycle(std::unique_ptr<pending> p) {
  p->gen++;
  p->st = pending::state::idle;
  p->answer.reset();
  p->cancel_ec = {};
  p->deadline.cancel();
  if (pending_pool_.size() < 256) pending_pool_.push_back(std::move(p));
}

outcome<session::outgoing> session::encode_request(wire::tag_t tag, const wire::message_body& req) {
  wire::message m{tag, req};
  std::size_t size = wire::encoded_size(m, dialect_);
  if (size > msize_) return fail(make_error_code(errc::message_too_large));
  std::span<const std::byte> payload = wire::bulk_payload(m);
  buffer header = pools_.get(size - payload.size());
  auto n = wire::encode_header(m, dialect_, header.span());
  if (!n) return fail(n.error());
  header.resize(*n);
  return outgoing{tag, std::move(header), payload, nullptr};
}

void session::enqueue(outgoing out) {
  queue_.push_back(std::move(out));
  if (!writing_) {
    writing_ = true;
    asio::co_spawn(strand_, write_loop(shared_from_this()), asio::detached);
  }
}

asio::awaitable<outcome<reply>> session::call(wire::message_body req, call_options o) {
  co_return co_await asio::co_spawn(strand_, call_impl(std::move(req), o), asio::use_awaitable);
}

asio::awaitable<outcome<reply>> session::call_impl(wire::message_body req, const call_options& o) {
  if (failed_) co_return fail(failed_);
  if (o.stop.stop_requested()) co_return fail(make_error_code(errc::cancelled));
  if (o.deadline != never && o.deadline <= std::chrono::steady_clock::now())
    co_return fail(std::make_error_code(std::errc::timed_out));
  auto type = wire::type_of(req);
  if (type == wire::msg_type::Tversion || type == wire::msg_type::Tflush)
    co_return fail(std::make_error_code(std::errc::invalid_argument));
  auto tag = tags_.reserve(expectation_for(req));
  if (!tag) co_return fail(tag.error());
  auto out = encode_request(*tag, req);
  if (!out) {
    tags_.release(*tag);
    co_return fail(out.error());
  }
  std::unique_ptr<pending> p = acquire_pending();
  pending* raw = p.get();
  p->tag = *tag;
  p->st = pending::state::queued;
  out->owner = raw;
  slots_[*tag] = {slot_kind::call, raw, 0, 0};
  enqueue(std::move(*out));

  auto self = shared_from_this();
  std::uint64_t gen = p->gen;
  if (o.deadline != never) {
    p->deadline.expires_at(o.deadline);
    p->deadline.async_wait([self, raw, gen](std::error_code ec) {
      if (!ec && raw->gen == gen)
        self->cancel_call(raw, std::make_error_code(std::errc::timed_out));
    });
  }
  // The stop callback runs on whichever thread requests the stop: hop to the strand.
  auto on_stop = [self, raw, gen] {
    asio::post(self->strand_, [self, raw, gen] {
      if (raw->gen == gen) self->cancel_call(raw, make_error_code(errc::cancelled));
    });
  };
  std::optional<std::stop_callback<decltype(on_stop)>> stop_cb;
  if (o.stop.stop_possible()) stop_cb.emplace(o.stop, on_stop);

  // A reply can arrive before the write's completion runs; the payload must not be released to
  // the caller until the write is over, so wait for both.
  while (!p->answer || p->st == pending::state::writing) co_await p->event.async_wait(as_tuple);
  stop_cb.reset();
  outcome<reply> r = std::move(*p->answer);
  recycle(std::move(p));
  co_return r;
}

void session::cancel_call(pending* p, std::error_code why) {
  switch (p->st) {
    case pending::state::queued: {
      // Never sent: the server has not seen the tag, so it is free at once.
      auto it = std::find_if(queue_.begin(), queue_.end(),
                             [p](const outgoing& e) { return e.owner == p; });
      if (it != queue_.end()) queue_.erase(it);
      tags_.release(p->tag);
      slots_[p->tag] = {};
      p->answer = fail(why);
      p->st = pending::state::done;
      p->signal();
      break;
    }
    case pending::state::writing:
      if (!p->cancel_ec) p->cancel_ec = why;  // finished by write_loop once the bytes are out
      break;
    case pending::state::sent:
      if (p->answer) break;
      // flush(5): the old tag may not be reused until Rflush arrives, whatever comes before it.
      slots_[p->tag] = {slot_kind::flushed, nullptr, 0, 0};
      send_flush(p->tag);
      p->answer = fail(why);
      p->st = pending::state::done;
      p->signal();
      break;
    default:
      break;
  }
}

void session::send_flush(wire::tag_t oldtag) {
  if (failed_) return;
  auto t = tags_.reserve({wire::msg_type::Rflush, 0});
  if (!t) {
    fail_all(t.error());
    return;
  }
  auto out = encode_request(*t, wire::Tflush{oldtag});
  if (!out) {
    fail_all(out.error());
    return;
  }
  slots_[*t] = {slot_kind::flush, nullptr, oldtag, 0};
  counters_.flushes++;
  flushes_unanswered_++;
  enqueue(std::move(*out));
}

void session::clunk_detached(wire::fid_t fid) {
  asio::post(strand_, [self = shared_from_this(), fid] {
    if (self->failed_) return;
    auto t = self->tags_.reserve({wire::msg_type::Rclunk, 0});
    if (!t) return;  // every tag busy: the fid leaks until the connection ends
    auto out = self->encode_request(*t, wire::Tclunk{fid});
    if (!out) {
      self->tags_.release(*t);
      return;
    }
    self->slots_[*t] = {slot_kind::clunk, nullptr, 0, fid};
    self->enqueue(std::move(*out));
  });
}

asio::awaitable<void> session::write_loop(std::shared_ptr<session> /*alive*/) {
  std::array<asio::const_buffer, 64> bufs;
  while (!queue_.empty() && !failed_) {
    batch_.clear();
    std::size_t nb = 0;
    while (!queue_.empty() && nb + 2 <= bufs.size()) {
      outgoing& e = queue_.front();
      bufs[nb++] = asio::buffer(e.header.data(), e.header.size());
      if (!e.payload.empty()) bufs[nb++] = asio::buffer(e.payload.data(), e.payload.size());
      if (e.owner) e.owner->st = pending::state::writing;
      batch_.push_back(std::move(e));
      queue_.pop_front();
    }
    counters_.sent += batch_.size();
    auto [ec, n] = co_await asio::async_write(
        sock_, std::span<const asio::const_buffer>(bufs.data(), nb), as_tuple);
    for (outgoing& e : batch_) {
      pending* p = e.owner;
      if (p == nullptr || p->st != pending::state::writing) continue;
      if (p->answer) {
        p->st = pending::state::done;
      } else {
        p->st = pending::state::sent;
        if (!ec && p->cancel_ec) cancel_call(p, p->cancel_ec);
      }
      p->signal();
    }
    batch_.clear();
    if (ec) fail_all(ec);
  }
  queue_.clear();
  writing_ = false;
}

asio::awaitable<void> session::read_loop(std::shared_ptr<session> /*alive*/) {
  while (!failed_) {
    auto f = co_await reader_->read(msize_, opts_.frame_timeout);
    if (!f) {
      fail_all(f.error() == errc::bad_size ? make_error_code(errc::bad_size) : f.error());
      break;
    }
    if (failed_) break;
    auto m = tags_.match(f->span());
    if (!m) {
      fail_all(m.error());
      break;
    }
    counters_.replies++;
    wire::tag_t tag = m->tag;
    tag_slot s = slots_[tag];
    switch (s.kind) {
      case slot_kind::call: {
        pending* p = s.call;
        if (p->st == pending::state::queued) {  // answered before it was sent: a lying server
          fail_all(make_error_code(errc::unexpected_reply));
          co_return;
        }
        tags_.release(tag);
        slots_[tag] = {};
        if (m->reply)
          p->answer = reply{std::move(*f), std::move(*m->reply)};
        else if (m->reply.error().category() == std::generic_category())
          p->answer = fail(error{m->reply.error(), std::string(m->error_text)});
        else
          p->answer = fail(malformed(f->span(), m->reply.error()));
        if (p->st == pending::state::sent) p->st = pending::state::done;
        p->signal();
        break;
      }
      case slot_kind::flushed:
        counters_.discarded++;  // the reply won the race with our Tflush; Rflush still frees it
        break;
      case slot_kind::flush:
        flushes_unanswered_--;
        tags_.release(s.oldtag);
        slots_[s.oldtag] = {};
        tags_.release(tag);
        slots_[tag] = {};
        break;
      case slot_kind::clunk:
        // clunk(5): the fid is gone even if the server reports an error.
        give_fid(s.fid);
        tags_.release(tag);
        slots_[tag] = {};
        break;
      case slot_kind::none:
        fail_all(make_error_code(errc::unexpected_reply));
        co_return;
    }
  }
}

void session::fail_all(std::error_code ec) {
  if (failed_) return;
  failed_ = ec;
  std::error_code ignored;
  sock_.shutdown(asio::socket_base::shutdown_both, ignored);
  sock_.close(ignored);
  for (outgoing& e : queue_) {
    if (e.owner == nullptr) continue;
    e.owner->answer = fail(ec);
    e.owner->st = pending::state::done;
    e.owner->signal();
  }
  queue_.clear();
  for (tag_slot& s : slots_) {
    if (s.kind == slot_kind::call && s.call != nullptr) {
      pending* p = s.call;
      if (!p->answer) p->answer = fail(ec);
      // A call whose bytes are being written finishes when write_loop sees the write fail.
      if (p->st != pending::state::writing) p->st = pending::state::done;
      p->signal();
    }
    s = {};
  }
}

// session: file API --------------------------------------------------------------------------

template <class R>
asio::awaitable<outcome<R>> session::rpc(wire::message_body req, const call_options& o) {
  // Only for replies that borrow nothing from their frame (the frame dies here).
  auto r = co_await call_impl(std::move(req), o);
  if (!r) co_return fail(r.error());
  co_return std::get<R>(r->msg.body);
}

wire::fid_t session::take_fid() {
  // At most tags-in-flight + open files are in use, far fewer than 2^32: this ends.
  for (;;) {
    wire::fid_t f = next_fid_++;
    if (next_fid_ == wire::nofid) next_fid_ = 1;
    if (fids_in_use_.insert(f).second) return f;
  }
}

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

namespace {

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

asio::awaitable<outcome<file>> session::walk_impl(std::string_view path, const call_options& o) {
  auto names = split_path(path);
  co_return co_await walk_from(root_fid_, names, o);
}

asio::awaitable<outcome<file>> session::walk(std::string_view path, call_options o) {
  co_return co_await asio::co_spawn(strand_, walk_impl(path, o), asio::use_awaitable);
}

asio::awaitable<outcome<void>> session::clunk_impl(file& f, const call_options& o) {
  wire::fid_t fid = f.release();
  if (fid == wire::nofid) co_return outcome<void>{};
  auto r = co_await rpc<wire::Rclunk>(wire::Tclunk{fid}, o);
  if (r || r.error().category() == std::generic_category()) give_fid(fid);
  if (!r) co_return fail(r.error());
  co_return outcome<void>{};
}

asio::awaitable<outcome<void>> session::clunk(file f, call_options o) {
  co_return co_await asio::co_spawn(strand_, clunk_impl(f, o), asio::use_awaitable);
}

asio::awaitable<outcome<attr>> session::stat_fid(wire::fid_t fid, const call_options& o) {
  if (dialect_ == wire::dialect::v2000L) {
    auto r = co_await rpc<wire::Rgetattr>(wire::Tgetattr{fid, wire::dotl::getattr_basic}, o);
    if (!r) co_return fail(r.error());
    co_return attr_of(*r);
  }
  auto r = co_await call_impl(wire::Tstat{fid}, o);
  if (!r) co_return fail(r.error());
  co_return attr_of(std::get<wire::Rstat>(r->msg.body).stat, dialect_);
}

asio::awaitable<outcome<attr>> session::stat(std::string_view path, call_options o) {
  auto impl = [this](std::string_view p, call_options opt) -> asio::awaitable<outcome<attr>> {
    auto f = co_await walk_impl(p, opt);
    if (!f) co_return fail(f.error());
    auto a = co_await stat_fid(f->fid(), opt);
    co_await clunk_impl(*f, opt);
    co_return a;
  };
  co_return co_await asio::co_spawn(strand_, impl(path, o), asio::use_awaitable);
}

asio::awaitable<outcome<attr>> session::stat(const file& f, call_options o) {
  co_return co_await asio::co_spawn(strand_, stat_fid(f.fid(), o), asio::use_awaitable);
}

asio::awaitable<outcome<void>> session::open_fid(file& f, std::uint32_t flags,
                                                 const call_options& o) {
  if (dialect_ == wire::dialect::v2000L) {
    auto r = co_await rpc<wire::Rlopen>(wire::Tlopen{f.fid(), flags}, o);
    if (!r) co_return fail(r.error());
    f.qid_ = r->qid;
    f.iounit_ = r->iounit;
  } else {
    auto mode = static_cast<std::uint8_t>((flags & wire::dotl::accmode) |
                                          ((flags & wire::dotl::trunc) ? otrunc : 0));
    auto r = co_await rpc<wire::Ropen>(wire::Topen{f.fid(), mode}, o);
    if (!r) co_return fail(r.error());
    f.qid_ = r->qid;
    f.iounit_ = r->iounit;
  }
  f.open_ = true;
  co_return outcome<void>{};
}

asio::awaitable<outcome<file>> session::open_impl(std::string_view path, std::uint32_t flags,
                                                  const call_options& o) {
  auto f = co_await walk_impl(path, o);
  if (!f) co_return fail(f.error());
  auto r = co_await open_fid(*f, flags, o);
  if (!r) co_return fail(r.error());
  co_return std::move(*f);
}

asio::awaitable<outcome<file>> session::open(std::string_view path, std::uint32_t flags,
                                             call_options o) {
  co_return co_await asio::co_spawn(strand_, open_impl(path, flags, o), asio::use_awaitable);
}

asio::awaitable<outcome<file>> session::create_impl(std::string_view path, std::uint32_t flags,
                                                    std::uint32_t mode, const call_options& o) {
  auto [dir, name] = split_parent(path);
  if (name.empty()) co_return fail(std::make_error_code(std::errc::invalid_argument));
  auto f = co_await walk_impl(dir, o);
  if (!f) co_return fail(f.error());
  // Both Tlcreate and Tcreate turn the directory fid into the new, open file.
  if (dialect_ == wire::dialect::v2000L) {
    auto r = co_await rpc<wire::Rlcreate>(
        wire::Tlcreate{f->fid(), name, flags & ~wire::dotl::create, mode, opts_.n_gid}, o);
    if (!r) co_return fail(r.error());
    f->qid_ = r->qid;
    f->iounit_ = r->iounit;
  } else {
    auto omode = static_cast<std::uint8_t>((flags & wire::dotl::accmode) |
                                           ((flags & wire::dotl::trunc) ? otrunc : 0));
    wire::Tcreate c{f->fid(), name, mode & 0777, omode, {}};
    auto r = co_await rpc<wire::Rcreate>(c, o);
    if (!r) co_return fail(r.error());
    f->qid_ = r->qid;
    f->iounit_ = r->iounit;
  }
  f->open_ = true;
  co_return std::move(*f);
}

asio::awaitable<outcome<file>> session::create(std::string_view path, std::uint32_t flags,
                                               std::uint32_t mode, call_options o) {
  co_return co_await asio::co_spawn(strand_, create_impl(path, flags, mode, o),
                                    asio::use_awaitable);
}

asio::awaitable<outcome<std::size_t>> session::io_impl(const file& f, std::uint64_t offset,
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
      auto r = co_await call_impl(wire::Tread{fid, offset + off, len}, o);
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
  co_return co_await asio::co_spawn(strand_, io_impl(f, offset, out, {}, o), asio::use_awaitable);
}

asio::awaitable<outcome<std::size_t>> session::write(const file& f, std::uint64_t offset,
                                                     std::span<const std::byte> data,
                                                     call_options o) {
  co_return co_await asio::co_spawn(strand_, io_impl(f, offset, {}, data, o), asio::use_awaitable);
}

asio::awaitable<outcome<std::vector<dir_entry>>> session::readdir_impl(std::string_view path,
                                                                       bool with_attr,
                                                                       const call_options& o) {
  std::vector<dir_entry> entries;
  auto d = co_await open_impl(path, wire::dotl::rdonly, o);
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
      auto r = co_await call_impl(wire::Treaddir{d->fid(), offset, count}, o);
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
      auto r = co_await call_impl(wire::Tread{d->fid(), offset, count}, o);
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
    auto dir = co_await walk_impl(path, o);
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
                            co_await clunk_impl(*f, o);
                          });
    co_await clunk_impl(*dir, o);
    if (err) co_return fail(err);
  }
  co_await clunk_impl(*d, o);
  if (with_attr && dialect_ == wire::dialect::v2000L && !entries.empty()) {
    // One unopened fid for the directory; each entry is a one-element walk from it.
    auto dir = co_await walk_impl(path, o);
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
                            co_await clunk_impl(*f, o);
                          });
    co_await clunk_impl(*dir, o);
    if (err) co_return fail(err);
  }
  co_return entries;
}

asio::awaitable<outcome<std::vector<dir_entry>>> session::readdir(std::string_view path,
                                                                  bool with_attr, call_options o) {
  co_return co_await asio::co_spawn(strand_, readdir_impl(path, with_attr, o), asio::use_awaitable);
}

asio::awaitable<outcome<void>> session::setattr_impl(std::string_view path, set_attr a,
                                                     const call_options& o) {
  auto f = co_await walk_impl(path, o);
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
    wire::stat s = dont_touch();
    if (a.mode) {
      // wstat may not change the file's kind: keep the dm bits of the current mode.
      auto cur = co_await call_impl(wire::Tstat{f->fid()}, o);
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
  co_await clunk_impl(*f, o);
  co_return out;
}

asio::awaitable<outcome<void>> session::setattr(std::string_view path, set_attr a, call_options o) {
  co_return co_await asio::co_spawn(strand_, setattr_impl(path, std::move(a), o),
                                    asio::use_awaitable);
}

asio::awaitable<outcome<void>> session::remove_impl(std::string_view path, const call_options& o) {
  auto [dir, name] = split_parent(path);
  if (name.empty()) co_return fail(std::make_error_code(std::errc::device_or_resource_busy));
  if (dialect_ == wire::dialect::v2000L) {
    auto d = co_await walk_impl(dir, o);
    if (!d) co_return fail(d.error());
    auto r = co_await rpc<wire::Runlinkat>(wire::Tunlinkat{d->fid(), name, 0}, o);
    if (!r && r.error() == std::errc::is_a_directory)
      r = co_await rpc<wire::Runlinkat>(wire::Tunlinkat{d->fid(), name, wire::dotl::at_removedir},
                                        o);
    co_await clunk_impl(*d, o);
    // v9fs falls back to Tremove only on EOPNOTSUPP; any other errno is final.
    if (r) co_return outcome<void>{};
    if (!is_unsupported(r.error())) co_return fail(r.error());
  }
  auto f = co_await walk_impl(path, o);
  if (!f) co_return fail(f.error());
  wire::fid_t fid = f->release();  // remove(5) clunks the fid, whatever the outcome
  auto r = co_await rpc<wire::Rremove>(wire::Tremove{fid}, o);
  if (r || r.error().category() == std::generic_category()) give_fid(fid);
  if (!r) co_return fail(r.error());
  co_return outcome<void>{};
}

asio::awaitable<outcome<void>> session::remove(std::string_view path, call_options o) {
  co_return co_await asio::co_spawn(strand_, remove_impl(path, o), asio::use_awaitable);
}

asio::awaitable<outcome<void>> session::rename_impl(std::string_view from, std::string_view to,
                                                    const call_options& o) {
  auto [fdir, fname] = split_parent(from);
  auto [tdir, tname] = split_parent(to);
  if (fname.empty() || tname.empty())
    co_return fail(std::make_error_code(std::errc::invalid_argument));
  if (dialect_ == wire::dialect::v2000L) {
    auto od = co_await walk_impl(fdir, o);
    if (!od) co_return fail(od.error());
    auto nd = co_await walk_impl(tdir, o);
    if (!nd) co_return fail(nd.error());
    auto r = co_await rpc<wire::Rrenameat>(wire::Trenameat{od->fid(), fname, nd->fid(), tname}, o);
    if (!r && is_unsupported(r.error())) {
      auto f = co_await walk_from(od->fid(), std::span(&fname, 1), o);
      if (!f) co_return fail(f.error());
      auto rr = co_await rpc<wire::Rrename>(wire::Trename{f->fid(), nd->fid(), tname}, o);
      co_await clunk_impl(*f, o);
      if (!rr) co_return fail(rr.error());
      r = wire::Rrenameat{};
    }
    co_await clunk_impl(*od, o);
    co_await clunk_impl(*nd, o);
    if (!r) co_return fail(r.error());
    co_return outcome<void>{};
  }
  // 9P2000/.u: wstat renames within the directory only.
  if (join_path(split_path(fdir)) != join_path(split_path(tdir))) co_return fail(not_supported());
  auto f = co_await walk_impl(from, o);
  if (!f) co_return fail(f.error());
  wire::stat s = dont_touch();
  s.name = tname;
  auto r = co_await rpc<wire::Rwstat>(wire::Twstat{f->fid(), s}, o);
  co_await clunk_impl(*f, o);
  if (!r) co_return fail(r.error());
  co_return outcome<void>{};
}

asio::awaitable<outcome<void>> session::rename(std::string_view from, std::string_view to,
                                               call_options o) {
  co_return co_await asio::co_spawn(strand_, rename_impl(from, to, o), asio::use_awaitable);
}

asio::awaitable<outcome<void>> session::mkdir_impl(std::string_view path, std::uint32_t mode,
                                                   const call_options& o) {
  auto [dir, name] = split_parent(path);
  if (name.empty()) co_return fail(std::make_error_code(std::errc::file_exists));
  auto d = co_await walk_impl(dir, o);
  if (!d) co_return fail(d.error());
  if (dialect_ == wire::dialect::v2000L) {
    auto r = co_await rpc<wire::Rmkdir>(wire::Tmkdir{d->fid(), name, mode & 07777, opts_.n_gid}, o);
    co_await clunk_impl(*d, o);
    if (!r) co_return fail(r.error());
    co_return outcome<void>{};
  }
  auto r = co_await rpc<wire::Rcreate>(
      wire::Tcreate{d->fid(), name, wire::dm::dir | (mode & 0777), oread, {}}, o);
  co_await clunk_impl(*d, o);  // now the new directory, opened
  if (!r) co_return fail(r.error());
  co_return outcome<void>{};
}

asio::awaitable<outcome<void>> session::mkdir(std::string_view path, std::uint32_t mode,
                                              call_options o) {
  co_return co_await asio::co_spawn(strand_, mkdir_impl(path, mode, o), asio::use_awaitable);
}

asio::awaitable<outcome<void>> session::symlink_impl(std::string_view target, std::string_view path,
                                                     const call_options& o) {
  if (dialect_ == wire::dialect::v2000) co_return fail(not_supported());
  auto [dir, name] = split_parent(path);
  if (name.empty()) co_return fail(std::make_error_code(std::errc::file_exists));
  auto d = co_await walk_impl(dir, o);
  if (!d) co_return fail(d.error());
  outcome<void> out;
  if (dialect_ == wire::dialect::v2000L) {
    auto r = co_await rpc<wire::Rsymlink>(wire::Tsymlink{d->fid(), name, target, opts_.n_gid}, o);
    if (!r) out = fail(r.error());
  } else {
    auto r = co_await rpc<wire::Rcreate>(
        wire::Tcreate{d->fid(), name, wire::dm::symlink | 0777, oread, target}, o);
    if (!r) out = fail(r.error());
  }
  co_await clunk_impl(*d, o);
  co_return out;
}

asio::awaitable<outcome<void>> session::symlink(std::string_view target, std::string_view path,
                                                call_options o) {
  co_return co_await asio::co_spawn(strand_, symlink_impl(target, path, o), asio::use_awaitable);
}

asio::awaitable<outcome<void>> session::link_impl(std::string_view existing, std::string_view path,
                                                  const call_options& o) {
  if (dialect_ == wire::dialect::v2000) co_return fail(not_supported());
  auto [dir, name] = split_parent(path);
  if (name.empty()) co_return fail(std::make_error_code(std::errc::file_exists));
  auto f = co_await walk_impl(existing, o);
  if (!f) co_return fail(f.error());
  auto d = co_await walk_impl(dir, o);
  if (!d) co_return fail(d.error());
  outcome<void> out;
  if (dialect_ == wire::dialect::v2000L) {
    auto r = co_await rpc<wire::Rlink>(wire::Tlink{d->fid(), f->fid(), name}, o);
    if (!r) out = fail(r.error());
  } else {
    std::string ext = std::to_string(f->fid()) + "\n";
    auto r = co_await rpc<wire::Rcreate>(wire::Tcreate{d->fid(), name, dm_link, oread, ext}, o);
    if (!r) out = fail(r.error());
  }
  co_await clunk_impl(*d, o);
  co_await clunk_impl(*f, o);
  co_return out;
}

asio::awaitable<outcome<void>> session::link(std::string_view existing, std::string_view path,
                                             call_options o) {
  co_return co_await asio::co_spawn(strand_, link_impl(existing, path, o), asio::use_awaitable);
}

asio::awaitable<outcome<std::string>> session::readlink_impl(std::string_view path,
                                                             const call_options& o) {
  if (dialect_ == wire::dialect::v2000) co_return fail(not_supported());
  auto f = co_await walk_impl(path, o);
  if (!f) co_return fail(f.error());
  outcome<std::string> out;
  if (dialect_ == wire::dialect::v2000L) {
    auto r = co_await call_impl(wire::Treadlink{f->fid()}, o);
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
  co_await clunk_impl(*f, o);
  co_return out;
}

asio::awaitable<outcome<std::string>> session::readlink(std::string_view path, call_options o) {
  co_return co_await asio::co_spawn(strand_, readlink_impl(path, o), asio::use_awaitable);
}

asio::awaitable<outcome<void>> session::fsync_impl(const file& f, const call_options& o) {
  if (dialect_ == wire::dialect::v2000L) {
    auto r = co_await rpc<wire::Rfsync>(wire::Tfsync{f.fid(), 0}, o);
    if (!r) co_return fail(r.error());
    co_return outcome<void>{};
  }
  // stat(5): a wstat with every field "don't touch" asks the server to commit the file.
  auto r = co_await rpc<wire::Rwstat>(wire::Twstat{f.fid(), dont_touch()}, o);
  if (!r) co_return fail(r.error());
  co_return outcome<void>{};
}

asio::awaitable<outcome<void>> session::fsync(const file& f, call_options o) {
  co_return co_await asio::co_spawn(strand_, fsync_impl(f, o), asio::use_awaitable);
}

asio::awaitable<outcome<fs_stat>> session::statfs_impl(std::string_view path,
                                                       const call_options& o) {
  if (dialect_ != wire::dialect::v2000L) co_return fail(not_supported());
  auto f = co_await walk_impl(path, o);
  if (!f) co_return fail(f.error());
  auto r = co_await rpc<wire::Rstatfs>(wire::Tstatfs{f->fid()}, o);
  co_await clunk_impl(*f, o);
  co_return r;
}

asio::awaitable<outcome<fs_stat>> session::statfs(std::string_view path, call_options o) {
  co_return co_await asio::co_spawn(strand_, statfs_impl(path, o), asio::use_awaitable);
}

}  // namespace ninep::client
