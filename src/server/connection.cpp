// SPDX-License-Identifier: MIT
#include "connection.hpp"

#include <fmt/format.h>
#include <malloc.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <charconv>
#include <ninep/core/error.hpp>
#include <ninep/wire/errors.hpp>
#include <ninep/wire/format.hpp>

namespace ninep::server::detail {
namespace {

constexpr auto as_tuple = asio::experimental::as_tuple(asio::use_awaitable);
// Busy-polls that find nothing in a row before a connection is no longer polled.
constexpr int max_poll_misses = 3;

}  // namespace

shared::shared(std::shared_ptr<filesystem> f, options o)
    : fs(std::move(f)),
      opts(std::move(o)),
      pools(transport::frame_pools::make(opts.max_msize)),
      workers(opts.workers, opts.worker_share != 0 ? opts.worker_share : opts.workers,
              opts.workers + opts.max_connections),
      level(static_cast<int>(opts.level)) {}

bool shared::take_peer_slot(const std::string& key) {
  std::lock_guard lk(peers_mu_);
  std::size_t& n = peers_[key];
  if (opts.max_connections_per_peer != 0 && n >= opts.max_connections_per_peer) {
    if (n == 0) peers_.erase(key);
    return false;
  }
  ++n;
  return true;
}

void shared::release_peer_slot(const std::string& key) {
  std::lock_guard lk(peers_mu_);
  auto it = peers_.find(key);
  if (it != peers_.end() && --it->second == 0) peers_.erase(it);
}

void shared::return_memory() {
  workers.submit(housekeeping, this, [this] {
    ::malloc_trim(0);
    stats.memory_returns.fetch_add(1, std::memory_order_relaxed);
  });
}

void shared::log(log_level l, std::string_view msg) const {
  if (!logs(l)) return;
  if (opts.log) {
    opts.log(l, msg);
  } else {
    fmt::print(stderr, "ninep: {}: {}\n", log_level_name(l), msg);
  }
}

connection::connection(shared& sh, transport::stream s, peer_info peer)
    : sh_(sh),
      sock_(std::move(s)),
      peer_(std::move(peer)),
      reader_(sock_, sh.pools),
      work_(sh.workers.make_queue()),
      msize_(sh.opts.max_msize),
      read_wake_(sock_.get_executor()),
      handshake_timer_(sock_.get_executor()) {
  dialect_ = wire::dialect::v2000;
  sh_.stats.connections++;
  // flush_writes() first tries a plain send on the network thread: it must never block.
  std::error_code ignored;
  sock_.non_blocking(true, ignored);
}

connection::~connection() {
  sh_.stats.fids -= fids_.size();
  sh_.live_connections--;
  if (!peer_.slot_key.empty()) sh_.release_peer_slot(peer_.slot_key);
}

void connection::close() {
  if (closed_) return;
  closed_ = true;
  std::error_code ignored;
  sock_.shutdown(asio::socket_base::shutdown_both, ignored);
  sock_.close(ignored);
  read_wake_.cancel();
  handshake_timer_.cancel();
  flush_writes();  // drops what is queued, unless a write is under way (it will)
  for (auto& [tag, r] : inflight_) r->stop.request_stop();
}

request* connection::get_request() {
  if (free_requests_.empty()) {
    all_requests_.push_back(std::make_unique<request>());
    all_requests_.back()->flushers.reserve(4);
    return all_requests_.back().get();
  }
  request* r = free_requests_.back();
  free_requests_.pop_back();
  return r;
}

void connection::release(request* r) {
  if (r->new_fid) pending_fids_.erase(*r->new_fid);
  r->new_fid.reset();
  r->frame = buffer();  // freed first, so that a trim after the flood can return it
  if (sh_.queued.give(r->frame_charged)) sh_.return_memory();
  r->frame_charged = 0;
  r->received = {};
  r->msg = wire::message{};
  r->f1.reset();
  r->f2.reset();
  r->result.reset();
  r->out = buffer();
  r->payload = buffer();
  r->out_len = r->payload_len = 0;
  r->flushed = r->cancelled = false;
  r->proven.reset();
  r->now_proven.reset();
  r->flushers.clear();
  // A stop_source cannot be reset; replace it only once it has been used.
  if (r->stop.stop_requested()) r->stop = std::stop_source();
  r->conn.reset();
  free_requests_.push_back(r);
}

void connection::set_reply(request& r, const wire::message_body& body) {
  wire::message m{r.msg.tag, body};
  std::size_t header = wire::encoded_size(m, dialect_) - wire::bulk_payload(m).size();
  r.out = sh_.pools.get(header);
  auto n = wire::encode_header(m, dialect_, r.out.span());
  if (!n) {
    // Only a backend handing back an over-long string can get here; answer with EIO.
    sh_.log(log_level::error, fmt::format("cannot encode reply: {}", n.error().message()));
    return set_error(r, errno_code(EIO));
  }
  r.out_len = *n;
  r.payload_len = wire::bulk_payload(m).size();
}

void connection::set_error(request& r, std::error_code ec) {
  r.result.reset();
  r.payload_len = 0;
  set_reply(r, wire::error_reply(ec, dialect_));
}

asio::awaitable<void> connection::serve() {
  auto self = shared_from_this();
  // A connection holds a slot; one that never gets as far as an attach must not hold it for
  // long (a peer opening connections and sending nothing, or half a Tversion).
  if (sh_.opts.handshake_timeout.count() > 0) {
    handshake_timer_.expires_after(sh_.opts.handshake_timeout);
    handshake_timer_.async_wait([w = weak_from_this()](std::error_code ec) {
      auto c = w.lock();
      if (ec || !c || c->attached_ || c->closed_) return;
      c->sh_.log(log_level::info,
                 fmt::format("{}: no Tversion and Tattach within {} ms; closing", c->peer_.name,
                             c->sh_.opts.handshake_timeout.count()));
      c->close();
    });
  }
  while (!closed_) {
    while (inflight_.size() >= sh_.opts.max_inflight && !closed_) {
      read_wake_.expires_at(asio::steady_timer::time_point::max());
      reader_waiting_ = true;
      serving_ = false;
      flush_writes();
      co_await read_wake_.async_wait(as_tuple);
      reader_waiting_ = false;
    }
    // Backpressure across connections: past the budget for request frames in memory, wait for
    // this connection's own requests to end (polling: the others' ending wakes no one here).
    while (!inflight_.empty() && sh_.queued.over() && !closed_) {
      read_wake_.expires_after(std::chrono::milliseconds(5));
      reader_waiting_ = true;
      serving_ = false;
      flush_writes();
      co_await read_wake_.async_wait(as_tuple);
      reader_waiting_ = false;
    }
    if (closed_) break;
    // Replies answered inline wait in the queue while more frames are already buffered (they
    // leave in one write); before the reader may wait for the peer, they go out now: sent
    // here, not posted, they leave before the speculative read and the reactor's next turn.
    std::chrono::steady_clock::time_point idle_since{};
    if (!reader_.has_frame()) {
      serving_ = false;
      flush_writes();
      if (sh_.opts.poll_window.count() > 0 && inflight_.empty() && !writing_ && !closed_ &&
          sh_.live_connections.load(std::memory_order_relaxed) <= sh_.opts.network_threads) {
        if (poll_misses_ < max_poll_misses) {
          poll_misses_ = poll() ? 0 : poll_misses_ + 1;
        } else {
          idle_since = std::chrono::steady_clock::now();
        }
      }
    }
    auto frame = co_await reader_.read(msize_, sh_.opts.frame_timeout);
    serving_ = true;
    // Polling stopped after a few misses; a peer that comes back soon is polled for again.
    // "Soon" is lenient: this wait includes the reactor's sleep and wakeup.
    if (idle_since != std::chrono::steady_clock::time_point{} &&
        std::chrono::steady_clock::now() - idle_since < 4 * sh_.opts.poll_window)
      poll_misses_ = 0;
    if (!frame) {
      if (frame.error() != make_error_code(errc::connection_closed))
        sh_.log(log_level::info,
                fmt::format("{}: closing: {}", peer_.name, frame.error().message()));
      break;
    }
    sh_.stats.bytes_in += frame->size();
    sh_.stats.requests++;
    request* r = get_request();
    r->conn = self;
    r->frame = std::move(*frame);
    r->frame_charged = r->frame.size();
    sh_.queued.add(r->frame_charged);
    auto m = wire::decode(r->frame.span(), dialect_, msize_);
    if (!m) {
      auto h = wire::decode_header(r->frame.span(), msize_);
      if (m.error() == make_error_code(errc::unknown_type) && h && (h->type % 2) == 0 &&
          !inflight_.contains(h->tag)) {
        // A request we do not speak in this dialect: answer it, the stream is still in sync.
        sh_.log(log_level::debug,
                fmt::format("{}: unsupported message type {}", peer_.name, h->type));
        r->msg.tag = h->tag;
        set_error(*r, errno_code(EOPNOTSUPP));
        inflight_.emplace(h->tag, r);
        reply_now(r);
        continue;
      }
      sh_.log(log_level::warn, fmt::format("{}: malformed message (type {}): {}; closing",
                                           peer_.name, h ? h->type : 0, m.error().message()));
      release(r);
      break;
    }
    r->msg = *m;
    if (sh_.logs(log_level::trace))
      sh_.log(log_level::trace, fmt::format("{} <- {}", peer_.name, wire::trace(r->msg, dialect_)));
    dispatch(r);
  }
  serving_ = false;
  close();
}

// Busy-polls the socket for the next frame (options::poll_window). Only called with nothing
// in flight: no worker completion can be waiting behind the loop meanwhile. True if a whole
// frame came in time.
bool connection::poll() {
  const auto deadline = std::chrono::steady_clock::now() + sh_.opts.poll_window;
  while (!reader_.has_frame()) {
    auto ec = reader_.try_fill();
    // need_more: the buffer is full with the start of a large frame; read() takes the rest.
    if (ec == make_error_code(errc::need_more)) return true;
    if (ec && ec != asio::error::would_block && ec != asio::error::try_again) return false;
    if (std::chrono::steady_clock::now() >= deadline) return reader_.has_frame();
  }
  return true;
}

// Writes queued replies, up to max_batch per gather write. Replies finished in the same turn
// of the loop leave together: send() only schedules this, once. The write is first tried right
// here (the socket is non-blocking): usually it all fits in the socket buffer, and the reply
// leaves without a trip through the reactor. Only what does not fit waits for async_write.
void connection::flush_writes() {
  flush_posted_ = false;
  while (!writing_ && !write_queue_.empty()) {
    if (closed_) {
      for (request* r : write_queue_) release(r);
      write_queue_.clear();
      return;
    }
    std::size_t n = 0, nb = 0, total = 0;
    while (!write_queue_.empty() && n < max_batch) {
      request* r = write_queue_.front();
      write_queue_.pop_front();
      batch_[n++] = r;
      bufs_[nb++] = asio::buffer(r->out.data(), r->out_len);
      total += r->out_len;
      if (r->payload_len) {
        bufs_[nb++] = asio::buffer(r->payload.data(), r->payload_len);
        total += r->payload_len;
      }
    }
    std::error_code err;
    std::size_t sent = sock_.write_some(std::span<const asio::const_buffer>(bufs_.data(), nb), err);
    if (err == asio::error::would_block || err == asio::error::try_again) err = {}, sent = 0;
    sh_.stats.bytes_out += sent;
    if (!err && sent == total) {
      for (std::size_t i = 0; i < n; ++i) release(batch_[i]);
      continue;
    }
    if (err) {
      for (std::size_t i = 0; i < n; ++i) release(batch_[i]);
      close();
      return;
    }
    // Partly sent: skip what left, hand the rest to the reactor.
    std::size_t first = 0;
    while (sent >= bufs_[first].size()) sent -= bufs_[first++].size();
    bufs_[first] += sent;
    writing_ = true;
    asio::async_write(sock_, std::span<const asio::const_buffer>(bufs_.data() + first, nb - first),
                      [self = shared_from_this(), n](std::error_code ec, std::size_t written) {
                        self->writing_ = false;
                        self->sh_.stats.bytes_out += written;
                        for (std::size_t i = 0; i < n; ++i) self->release(self->batch_[i]);
                        if (ec) self->close();
                        self->flush_writes();
                      });
  }
}

void connection::send(request* r) {
  if (sh_.logs(log_level::trace)) {
    // Re-decode what we encoded: the trace shows exactly what goes on the wire.
    std::vector<std::byte> whole(r->out.data(), r->out.data() + r->out_len);
    whole.insert(whole.end(), r->payload.data(), r->payload.data() + r->payload_len);
    if (auto m = wire::decode(whole, dialect_))
      sh_.log(log_level::trace, fmt::format("{} -> {}", peer_.name, wire::trace(*m, dialect_)));
  }
  write_queue_.push_back(r);
  // While serve() handles frames it flushes itself before it next waits for the peer.
  if (!writing_ && !flush_posted_ && !serving_) {
    flush_posted_ = true;
    asio::post(sock_.get_executor(), [self = shared_from_this()] { self->flush_writes(); });
  }
}

// Sends the reply of `r` and then the Rflush of every Tflush that waited for it: Rflush must
// come last, and only then may the old tag be reused (flush(5)).
void connection::reply_now(request* r) {
  inflight_.erase(r->msg.tag);
  if (r->received != std::chrono::steady_clock::time_point{}) {
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - r->received);
    sh_.stats.record(static_cast<std::uint8_t>(wire::type_of(r->msg.body)),
                     static_cast<std::uint64_t>(us.count()));
  }
  std::vector<wire::tag_t> flushers;
  flushers.swap(r->flushers);
  if (r->cancelled || closed_)
    release(r);
  else
    send(r);
  for (wire::tag_t t : flushers) {
    auto it = inflight_.find(t);
    if (it == inflight_.end()) continue;
    request* f = it->second;
    set_reply(*f, wire::Rflush{});
    reply_now(f);
  }
  if (reader_waiting_ && inflight_.size() < sh_.opts.max_inflight) read_wake_.cancel();
}

void connection::finish(request* r) {
  if (closed_) {
    inflight_.erase(r->msg.tag);
    release(r);
    return;
  }
  if (r->flushed && r->stop.stop_requested() && r->out_len == 0) r->cancelled = true;
  if (r->result) {
    if (std::holds_alternative<wire::Tattach>(r->msg.body)) attached_ = true;
    sh_.stats.fids += commit(*r, fids_);
  }
  if (r->now_proven) proven_ = r->now_proven;
  reply_now(r);
}

void connection::start(request* r) {
  // The job counts as work of the connection's loop until it has handed its result back, so
  // the loop's run() cannot return in between: a completion posted to a loop that has ended
  // would never run, and the request's reference to its connection would keep both alive.
  sh_.workers.submit(work_, r,
                     [r, loop_busy = asio::prefer(sock_.get_executor(),
                                                  asio::execution::outstanding_work.tracked)] {
                       if (execute(*r)) r->conn->complete(r);
                     });
}

void connection::complete(request* r) {
  // Hold the connection: finishing may release the request's own reference to it (when the
  // connection has closed meanwhile), which must not destroy it under finish().
  asio::post(sock_.get_executor(), [r, keep = r->conn] { keep->finish(r); });
}

bool connection::version(request& r) {
  const auto& t = std::get<wire::Tversion>(r.msg.body);
  // version(5): a new Tversion aborts everything; clunk every fid.
  for (auto& [tag, other] : inflight_) other->stop.request_stop();
  fids_.clear();
  // version(5): "9P2000.L..." and "9P2000.u..." choose those dialects; any other "9P2000.x"
  // is answered with plain 9P2000.
  std::string_view v = t.version;
  std::string_view reply = "unknown";
  if (v == "9P2000" || v.starts_with("9P2000.")) {
    dialect_ = wire::dialect_of(v.substr(0, 8)).value_or(wire::dialect::v2000);
    reply = wire::version_string(dialect_);
  }
  // Clamp to the client's msize, never raise it; refuse sizes too small to carry an I/O header.
  std::uint32_t m = std::min(t.msize, sh_.opts.max_msize);
  if (m < 256) reply = "unknown";
  versioned_ = reply != "unknown";
  if (versioned_) msize_ = m;
  set_reply(r, wire::Rversion{versioned_ ? m : t.msize, reply});
  return true;
}

// Tauth, and Tread/Twrite/Tclunk/Tremove on an afid: answered here, on the network thread
// (nothing blocks: the credential is only checked by the Tattach that uses the afid).
// Returns false for every other message.
bool connection::auth_message(request* r) {
  auto afid = [&](wire::fid_t f) -> fid_state* {
    auto it = fids_.find(f);
    return it != fids_.end() && it->second->kind == fid_state::kind::auth ? it->second.get()
                                                                          : nullptr;
  };
  if (auto* t = std::get_if<wire::Tauth>(&r->msg.body)) {
    if (!sh_.opts.identity.munge || fids_.contains(t->afid) || fids_.size() >= sh_.opts.max_fids)
      return false;  // answered by the protocol checks
    auto f = std::make_shared<fid_state>();
    f->kind = fid_state::kind::auth;
    f->qid = wire::qid{wire::qt::auth, 0, 0};
    f->extra = std::make_unique<fid_extra>();
    fids_.emplace(t->afid, f);
    sh_.stats.fids++;
    set_reply(*r, wire::Rauth{f->qid});
    return true;
  }
  if (auto* w = std::get_if<wire::Twrite>(&r->msg.body)) {
    fid_state* f = afid(w->fid);
    if (f == nullptr) return false;
    // As diod: the credential is written in order, from offset 0; bounded (a MUNGE credential
    // is a few hundred bytes).
    std::lock_guard lk(f->extra->mu);
    std::string& cred = f->extra->auth;
    if (w->offset != cred.size() || cred.size() + w->data.data.size() > 65536) {
      set_error(*r, errno_code(EIO));
    } else {
      cred.append(reinterpret_cast<const char*>(w->data.data.data()), w->data.data.size());
      set_reply(*r, wire::Rwrite{static_cast<std::uint32_t>(w->data.data.size())});
    }
    return true;
  }
  if (auto* rd = std::get_if<wire::Tread>(&r->msg.body)) {
    if (afid(rd->fid) == nullptr) return false;
    set_reply(*r, wire::Rread{});  // MUNGE has nothing for the client to read
    return true;
  }
  wire::fid_t gone = wire::nofid;
  if (auto* c = std::get_if<wire::Tclunk>(&r->msg.body)) gone = c->fid;
  if (auto* c = std::get_if<wire::Tremove>(&r->msg.body)) gone = c->fid;
  if (gone == wire::nofid || afid(gone) == nullptr) return false;
  fids_.erase(gone);
  sh_.stats.fids--;
  if (std::holds_alternative<wire::Tclunk>(r->msg.body))
    set_reply(*r, wire::Rclunk{});
  else
    set_error(*r, errno_code(EPERM));  // the afid is clunked all the same (remove(5))
  return true;
}

void connection::run_flush(request* r) {
  auto oldtag = std::get<wire::Tflush>(r->msg.body).oldtag;
  auto it = inflight_.find(oldtag);
  if (it == inflight_.end() || it->second == r) {
    set_reply(*r, wire::Rflush{});
    return reply_now(r);
  }
  request* old = it->second;
  old->flushers.push_back(r->msg.tag);
  if (sh_.workers.cancel(work_, old)) {
    // Still waiting for a worker: it never runs and is never answered; Rflush goes now.
    old->cancelled = true;
    return reply_now(old);
  }
  old->flushed = true;
  old->stop.request_stop();
}

void connection::dispatch(request* r) {
  r->received = std::chrono::steady_clock::now();
  const wire::tag_t tag = r->msg.tag;
  const auto type = wire::type_of(r->msg.body);
  if (static_cast<int>(type) % 2 != 0 || inflight_.contains(tag)) {
    // A reply sent to a server, or a tag already in use: the client is confused beyond repair.
    sh_.log(log_level::warn, fmt::format("{}: {} with tag {}; closing", peer_.name,
                                         wire::type_name(static_cast<std::uint8_t>(type)), tag));
    release(r);
    return close();
  }
  inflight_.emplace(tag, r);
  if (type == wire::msg_type::Tversion) {
    version(*r);
    return reply_now(r);
  }
  if (!versioned_) {
    set_error(*r, errno_code(EPROTO));
    return reply_now(r);
  }
  if (type == wire::msg_type::Tflush) return run_flush(r);

  if (auth_message(r)) return reply_now(r);

  // Protocol checks before any backend code runs. Each rule says which fids must exist and
  // in which state; anything wrong is answered here.
  auto lookup = [&](wire::fid_t f) -> fid_ptr {
    auto it = fids_.find(f);
    return it == fids_.end() ? nullptr : it->second;
  };
  std::error_code ec;
  auto need = [&](wire::fid_t f, fid_ptr& slot) {
    if (ec) return;
    slot = lookup(f);
    if (!slot) ec = errno_code(EBADF);
    // An afid has no file: only the messages answered by auth_message() take it.
    if (!ec && slot->kind == fid_state::kind::auth) ec = errno_code(EBADF);
  };
  // A fid this request creates. Requests in flight count against max_fids (their fids are
  // installed only when they complete), and their newfids are taken already.
  std::optional<wire::fid_t> creates;
  auto fresh = [&](wire::fid_t f) {
    if (!ec && (fids_.contains(f) || pending_fids_.contains(f))) ec = errno_code(EBADF);
    if (!ec && fids_.size() + pending_fids_.size() >= sh_.opts.max_fids) ec = errno_code(EMFILE);
    if (!ec) creates = f;
  };
  auto name_ok = [&](std::string_view n) {
    if (!ec && !wire::valid_name(n)) ec = errno_code(EINVAL);
  };
  auto closed_file = [&](const fid_ptr& f) {
    if (!ec && (f->open || f->kind != fid_state::kind::file)) ec = errno_code(EBADF);
  };
  const std::uint32_t io_max = msize_ - wire::rread_header_size;
  std::visit(
      [&]<class M>(M& m) {
        using namespace wire;
        if constexpr (std::is_same_v<M, Tauth>) {
          // Without MUNGE: attach with afid = NOFID. diod's clients (libnpclient) read
          // ENOENT from Tauth as "auth not required"; any other errno fails their mount.
          if (!sh_.opts.identity.munge) ec = errno_code(ENOENT);
          fresh(m.afid);
        } else if constexpr (std::is_same_v<M, Tattach>) {
          fresh(m.fid);
          if (!ec && m.afid != nofid) {
            r->f2 = lookup(m.afid);
            if (!r->f2 || r->f2->kind != fid_state::kind::auth) ec = errno_code(EPERM);
          }
          r->proven = proven_;
        } else if constexpr (std::is_same_v<M, Twalk>) {
          need(m.fid, r->f1);
          if (m.newfid != m.fid) fresh(m.newfid);
          // Walking an open fid is allowed to a different newfid: Linux clones open fids.
          if (!ec && m.fid == m.newfid && r->f1->open) ec = errno_code(EBADF);
          if (!ec && r->f1->kind != fid_state::kind::file) ec = errno_code(EBADF);
          // An empty name is left to the handler, which says why it fails (go-p9p walks "").
          for (auto n : m.wnames)
            if (!ec && n != ".." && !n.empty() && !wire::valid_name(n)) ec = errno_code(EINVAL);
        } else if constexpr (std::is_same_v<M, Tlopen> || std::is_same_v<M, Topen>) {
          need(m.fid, r->f1);
          closed_file(r->f1);
        } else if constexpr (std::is_same_v<M, Tlcreate> || std::is_same_v<M, Tcreate>) {
          need(m.fid, r->f1);
          closed_file(r->f1);
          name_ok(m.name);
          if constexpr (std::is_same_v<M, Tcreate>) {
            // 9P2000.u hard link: perm DMLINK, extension "<fid of the target>\n".
            if (!ec && dialect_ == dialect::v2000u && (m.perm & dm::link)) {
              fid_t target = 0;
              auto [p, perr] = std::from_chars(m.extension.data(),
                                               m.extension.data() + m.extension.size(), target);
              if (perr != std::errc() || p == m.extension.data()) ec = errno_code(EINVAL);
              need(target, r->f2);
            }
          }
        } else if constexpr (std::is_same_v<M, Tread>) {
          need(m.fid, r->f1);
          if (!ec && r->f1->kind == fid_state::kind::file &&
              (!r->f1->open || (r->f1->flags & O_ACCMODE) == O_WRONLY))
            ec = errno_code(EBADF);
          if (!ec && r->f1->kind == fid_state::kind::xattr_write) ec = errno_code(EBADF);
          m.count = std::min(m.count, io_max);
        } else if constexpr (std::is_same_v<M, Twrite>) {
          need(m.fid, r->f1);
          if (!ec && r->f1->kind == fid_state::kind::file &&
              (!r->f1->open || (r->f1->flags & O_ACCMODE) == O_RDONLY))
            ec = errno_code(EBADF);
          if (!ec && r->f1->kind == fid_state::kind::xattr_read) ec = errno_code(EBADF);
          if (!ec && m.offset > static_cast<std::uint64_t>(INT64_MAX)) ec = errno_code(EINVAL);
        } else if constexpr (std::is_same_v<M, Treaddir>) {
          need(m.fid, r->f1);
          if (!ec && (!r->f1->open || !(r->f1->qid.type & qt::dir))) ec = errno_code(EBADF);
          m.count = std::min(m.count, io_max);
        } else if constexpr (std::is_same_v<M, Tclunk> || std::is_same_v<M, Tremove>) {
          need(m.fid, r->f1);
          // The fid is gone whatever the outcome (clunk(5), remove(5)).
          if (!ec) {
            fids_.erase(m.fid);
            sh_.stats.fids--;
          }
        } else if constexpr (std::is_same_v<M, Txattrwalk>) {
          need(m.fid, r->f1);
          if (m.newfid != m.fid) fresh(m.newfid);
        } else if constexpr (std::is_same_v<M, Txattrcreate>) {
          need(m.fid, r->f1);
          closed_file(r->f1);
          if (!ec && m.attr_size > 65536) ec = errno_code(E2BIG);
        } else if constexpr (std::is_same_v<M, Tsymlink>) {
          need(m.fid, r->f1);
          name_ok(m.name);
        } else if constexpr (std::is_same_v<M, Tmknod> || std::is_same_v<M, Tmkdir>) {
          need(m.dfid, r->f1);
          name_ok(m.name);
        } else if constexpr (std::is_same_v<M, Trename>) {
          need(m.fid, r->f1);
          need(m.dfid, r->f2);
          name_ok(m.name);
        } else if constexpr (std::is_same_v<M, Tlink>) {
          need(m.dfid, r->f1);
          need(m.fid, r->f2);
          name_ok(m.name);
        } else if constexpr (std::is_same_v<M, Trenameat>) {
          need(m.olddirfid, r->f1);
          need(m.newdirfid, r->f2);
          name_ok(m.oldname);
          name_ok(m.newname);
        } else if constexpr (std::is_same_v<M, Tunlinkat>) {
          need(m.dirfid, r->f1);
          name_ok(m.name);
        } else if constexpr (std::is_same_v<M, Tlock> || std::is_same_v<M, Tgetlock>) {
          need(m.fid, r->f1);
          if (!ec && !r->f1->open) ec = errno_code(EBADF);
        } else if constexpr (requires { m.fid; }) {
          need(m.fid, r->f1);
        }
      },
      r->msg.body);
  if (ec) {
    set_error(*r, ec);
    return reply_now(r);
  }
  if (creates) {
    pending_fids_.insert(*creates);
    r->new_fid = creates;
  }
  if (execute_fast(*r)) return reply_now(r);
  start(r);
}

}  // namespace ninep::server::detail
