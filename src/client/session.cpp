// SPDX-License-Identifier: MIT
// session: the tag multiplexer (version, attach, calls in flight, flush, the read and write
// loops). The file API on top of call() is in file_ops.cpp.
#include <algorithm>
#include <array>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
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
#include "session_detail.hpp"

namespace ninep::client {
namespace {

using detail::as_tuple;
using detail::never;

/// A reply that does not answer its request properly, named: "malformed Rwalk: ...".
error malformed(std::span<const std::byte> frame, std::error_code why) {
  std::string_view name = wire::type_name(static_cast<std::uint8_t>(frame[4]));
  return {why, "malformed " + (name.empty() ? "reply" : std::string(name)) + ": " + why.message()};
}

}  // namespace

/// One call in flight. Pooled: the timers are made once and reused.
struct session::pending {
  explicit pending(const strand_type& s) : event(s, never), deadline(s) {}
  // waiting_tag: every tag is in flight; granted: holds a tag, not yet queued for writing.
  enum class state : std::uint8_t { idle, waiting_tag, granted, queued, writing, sent, done };
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
      strand_ex_(strand_),
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
  const auto caller = co_await asio::this_coro::executor;
  if (off_strand(caller)) {
    co_await hop(shutdown(std::move(o)));
    co_return;
  }
  if (!failed_ && flushes_unanswered_ == 0) co_await rpc<wire::Rclunk>(wire::Tclunk{root_fid_}, o);
  fail_all(make_error_code(errc::connection_closed));
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
  const auto caller = co_await asio::this_coro::executor;
  if (off_strand(caller)) co_return co_await hop(call(std::move(req), std::move(o)));
  if (failed_) co_return fail(failed_);
  if (o.stop.stop_requested()) co_return fail(make_error_code(errc::cancelled));
  if (o.deadline != never && o.deadline <= std::chrono::steady_clock::now())
    co_return fail(std::make_error_code(std::errc::timed_out));
  auto type = wire::type_of(req);
  if (type == wire::msg_type::Tversion || type == wire::msg_type::Tflush)
    co_return fail(std::make_error_code(std::errc::invalid_argument));
  std::unique_ptr<pending> p = acquire_pending();
  pending* raw = p.get();
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

  // With every tag in flight the call waits its turn for one (freed by a reply, first come
  // first served): a burst of requests is paced by the server, never refused.
  if (auto t = take_tag({slot_kind::call, raw, expectation_for(req), 0, 0}))
    grant(raw, *t);
  else
    raw->st = pending::state::waiting_tag;
  while (p->st == pending::state::waiting_tag) co_await p->event.async_wait(as_tuple);
  if (!p->answer) {
    auto out = encode_request(p->tag, req);
    if (out) {
      out->owner = raw;
      p->st = pending::state::queued;
      enqueue(std::move(*out));
    } else {
      free_tag(p->tag);
      p->answer = fail(out.error());
      p->st = pending::state::done;
    }
  }

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
    case pending::state::waiting_tag: {
      auto it = std::find_if(tag_waiters_.begin(), tag_waiters_.end(),
                             [p](const tag_waiter& w) { return w.call == p; });
      if (it != tag_waiters_.end()) tag_waiters_.erase(it);
      p->answer = fail(why);
      p->st = pending::state::done;
      p->signal();
      break;
    }
    case pending::state::granted:
      free_tag(p->tag);
      p->answer = fail(why);
      p->st = pending::state::done;
      p->signal();
      break;
    case pending::state::queued: {
      // Never sent: the server has not seen the tag, so it is free at once.
      auto it = std::find_if(queue_.begin(), queue_.end(),
                             [p](const outgoing& e) { return e.owner == p; });
      if (it != queue_.end()) queue_.erase(it);
      free_tag(p->tag);
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
  if (!flush_waiters_.empty()) return flush_waiters_.push_back(oldtag);
  auto t = tags_.reserve({wire::msg_type::Rflush, 0});
  if (!t) return flush_waiters_.push_back(oldtag);
  send_background({slot_kind::flush, nullptr, {}, oldtag, 0}, *t);
}

void session::clunk_detached(wire::fid_t fid) {
  asio::post(strand_, [self = shared_from_this(), fid] {
    if (self->failed_) return;
    const tag_waiter w{slot_kind::clunk, nullptr, {wire::msg_type::Rclunk, 0}, 0, fid};
    if (auto t = self->take_tag(w)) self->send_background(w, *t);
  });
}

bool session::tag_for_call_free() const noexcept {
  return tags_.in_flight() + flush_reserve < tags_.capacity();
}

std::optional<wire::tag_t> session::take_tag(const tag_waiter& w) {
  if (tag_waiters_.empty() && flush_waiters_.empty() && tag_for_call_free()) {
    if (auto t = tags_.reserve(w.expect)) return *t;
  }
  tag_waiters_.push_back(w);
  return std::nullopt;
}

void session::free_tag(wire::tag_t t) {
  tags_.release(t);
  slots_[t] = {};
  if (failed_) return;
  if (!flush_waiters_.empty()) {
    const wire::tag_t oldtag = flush_waiters_.front();
    flush_waiters_.pop_front();
    auto f = tags_.reserve({wire::msg_type::Rflush, 0});  // cannot fail: t is free
    if (!f) return fail_all(f.error());
    return send_background({slot_kind::flush, nullptr, {}, oldtag, 0}, *f);
  }
  if (tag_waiters_.empty() || !tag_for_call_free()) return;
  tag_waiter w = tag_waiters_.front();
  tag_waiters_.pop_front();
  auto granted = tags_.reserve(w.expect);  // cannot fail: t is free
  if (!granted) return fail_all(granted.error());
  if (w.kind == slot_kind::call)
    grant(w.call, *granted);
  else
    send_background(w, *granted);
}

void session::grant(pending* p, wire::tag_t t) {
  p->tag = t;
  p->st = pending::state::granted;
  slots_[t] = {slot_kind::call, p, 0, 0};
  p->signal();
}

void session::send_background(const tag_waiter& w, wire::tag_t t) {
  wire::message_body m;
  if (w.kind == slot_kind::flush)
    m = wire::Tflush{w.oldtag};
  else
    m = wire::Tclunk{w.fid};
  auto out = encode_request(t, m);
  if (!out) return fail_all(out.error());  // a Tflush or Tclunk always fits min_msize
  slots_[t] = {w.kind, nullptr, w.oldtag, w.fid};
  if (w.kind == slot_kind::flush) {
    counters_.flushes++;
    flushes_unanswered_++;
  }
  enqueue(std::move(*out));
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
        if (p->st == pending::state::granted || p->st == pending::state::queued) {
          // answered before it was sent: a lying server
          fail_all(make_error_code(errc::unexpected_reply));
          co_return;
        }
        free_tag(tag);
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
        free_tag(s.oldtag);
        free_tag(tag);
        break;
      case slot_kind::clunk:
        // clunk(5): the fid is gone even if the server reports an error.
        give_fid(s.fid);
        free_tag(tag);
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
  for (const tag_waiter& w : tag_waiters_) {
    if (w.call == nullptr) continue;
    w.call->answer = fail(ec);
    w.call->st = pending::state::done;
    w.call->signal();
  }
  tag_waiters_.clear();
  flush_waiters_.clear();
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

wire::fid_t session::take_fid() {
  // At most tags-in-flight + open files are in use, far fewer than 2^32: this ends.
  for (;;) {
    wire::fid_t f = next_fid_++;
    if (next_fid_ == wire::nofid) next_fid_ = 1;
    if (fids_in_use_.insert(f).second) return f;
  }
}

}  // namespace ninep::client
