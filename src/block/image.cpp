// SPDX-License-Identifier: MIT
#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <cstring>
#include <ninep/block/image.hpp>
#include <ninep/core/error.hpp>
#include <ninep/wire/dotl.hpp>

namespace ninep::block {
namespace {

constexpr auto as_tuple = asio::experimental::as_tuple(asio::use_awaitable);
using clock = std::chrono::steady_clock;
constexpr auto never = clock::time_point::max();
constexpr std::uint32_t min_msize = 4096;
// Far below the session's 4096 tags: a full link waits for a slot, it never runs out of tags.
constexpr std::size_t max_in_flight_cap = 2048;

/// Whether a failed request should be sent again on a new connection: anything that is not an
/// answer from the server. Server answers arrive as errno values in std::generic_category();
/// ETIMEDOUT there is our own request deadline. The rest (errc::connection_closed, socket
/// errors, a reply that does not fit its request) says the connection cannot be trusted.
bool lost_connection(std::error_code ec) {
  return ec.category() != std::generic_category() || ec == std::errc::timed_out;
}

std::error_code eio() { return std::make_error_code(std::errc::io_error); }

}  // namespace

/// One 9P connection and the image file open on it.
struct image::link {
  std::shared_ptr<client::session> s;
  client::file f;
  std::uint64_t gen = 0;  // bumped when a new connection replaces a lost one
  bool up = false;
  bool reconnecting = false;
  std::size_t in_flight = 0;
  std::uint32_t max_io = 0;
  asio::steady_timer* backoff = nullptr;  // while reconnect() sleeps: close() cuts it short
};

/// A request waiting for a connection slot; notify() wakes every one.
struct image::waiter {
  asio::steady_timer t;
};

image::image(asio::any_io_executor ex, image_options o)
    : strand_(asio::make_strand(ex)), opts_(std::move(o)) {}

image::~image() {
  for (auto& l : links_) {
    l->f.release();  // the server drops the fid with the connection
    if (l->s) l->s->close();
  }
}

asio::awaitable<client::outcome<std::shared_ptr<image>>> image::open(asio::any_io_executor ex,
                                                                     image_options o) {
  const std::string where = o.address + ": " + o.path;
  if (o.path.empty())
    co_return client::fail({make_error_code(errc::bad_address), where + ": no path given"});
  if (o.session.msize < min_msize)
    co_return client::fail(
        {std::make_error_code(std::errc::invalid_argument),
         where + ": msize " + std::to_string(o.session.msize) + " is below 9P's minimum of 4096"});
  auto a = transport::parse_address(o.address);
  if (!a)
    co_return client::fail({a.error(), o.address + ": not a 9P address: " + a.error().message()});
  o.connections = std::max<std::size_t>(o.connections, 1);
  o.max_in_flight = std::clamp<std::size_t>(o.max_in_flight, 1, max_in_flight_cap);
  std::shared_ptr<image> img(new image(ex, std::move(o)));
  img->addr_ = *a;
  auto setup = [](std::shared_ptr<image> self) -> asio::awaitable<client::outcome<void>> {
    for (std::size_t i = 0; i < self->opts_.connections; ++i) {
      self->links_.push_back(std::make_unique<link>());
      auto r = co_await self->connect(*self->links_.back(), i == 0);
      if (!r) co_return client::fail(r.error());
      self->links_.back()->up = true;
    }
    std::uint32_t c = self->links_[0]->max_io;
    for (auto& l : self->links_) c = std::min(c, l->max_io);
    // Whole pages per request keep requests at aligned offsets aligned on the server.
    if (c >= 2 * 4096) c -= c % 4096;
    self->chunk_ = c;
    self->zeros_.resize(c);
    self->dialect_ = self->links_[0]->s->dialect();
    co_return client::outcome<void>{};
  };
  auto r = co_await asio::co_spawn(img->strand_, setup(img), asio::use_awaitable);
  if (!r) {
    co_await img->close();
    co_return client::fail(r.error());
  }
  co_return img;
}

asio::awaitable<client::outcome<void>> image::connect(link& l, bool first) {
  const std::string& addr = opts_.address;
  const std::string where = addr + ": " + opts_.path;
  // Endpoints are plain data: a throwaway context serves the (blocking) name lookup.
  asio::io_context lookup;
  auto eps = transport::resolve(lookup, addr_);
  if (!eps) co_return client::fail({eps.error(), addr + ": " + eps.error().message()});
  std::optional<transport::stream> sock;
  std::error_code ec = make_error_code(errc::bad_address);
  for (const auto& ep : *eps) {
    auto s = std::make_shared<transport::stream>(strand_.get_inner_executor());
    asio::steady_timer limit(strand_);
    limit.expires_after(opts_.request_timeout);
    limit.async_wait([s](std::error_code e) {
      std::error_code ignored;
      if (!e) s->close(ignored);
    });
    auto [e] = co_await s->async_connect(ep, as_tuple);
    limit.cancel();
    ec = e;
    if (e == asio::error::operation_aborted) ec = std::make_error_code(std::errc::timed_out);
    if (ec) continue;
    if (addr_.type == transport::address::kind::tcp) {
      std::error_code ignored;  // Nagle only delays small requests; failing to disable is benign
      s->set_option(asio::ip::tcp::no_delay(true), ignored);
    }
    sock.emplace(std::move(*s));
    break;
  }
  if (!sock) co_return client::fail({ec, addr + ": " + ec.message()});

  client::options so = opts_.session;
  so.connect_timeout = opts_.request_timeout;
  auto started = co_await client::session::start(std::move(*sock), so);
  if (!started)
    co_return client::fail({started.error().code, addr + ": " + started.error().message()});
  std::shared_ptr<client::session> s = std::move(*started);
  auto co = [this] { return client::call_options::timeout(opts_.request_timeout); };
  auto bad = [&](const client::error& e) -> client::outcome<void> {
    s->close();
    return client::fail({e.code, where + ": " + e.message()});
  };

  const std::uint32_t flags = opts_.readonly ? wire::dotl::rdonly : wire::dotl::rdwr;
  auto f = co_await s->open(opts_.path, flags, co());
  if (!f && first && opts_.create_size && f.error() == std::errc::no_such_file_or_directory) {
    f = co_await s->create(opts_.path, flags, 0644, co());
    if (!f) co_return bad(f.error());
    client::set_attr a;
    a.size = *opts_.create_size;
    auto r = co_await s->setattr(opts_.path, a, co());
    if (!r) co_return bad(r.error());
  }
  if (!f) co_return bad(f.error());
  auto st = co_await s->stat(*f, co());
  if (!st) co_return bad(st.error());
  if (st->is_dir()) co_return bad(std::make_error_code(std::errc::is_a_directory));
  if (!st->is_regular())
    co_return bad({std::make_error_code(std::errc::invalid_argument), "not a regular file"});
  if (first) size_ = st->size;
  l.max_io = s->max_io(f->iounit());
  l.s = std::move(s);
  l.f = std::move(*f);
  co_return client::outcome<void>{};
}

asio::awaitable<void> image::reconnect(std::size_t index) {
  link& l = *links_[index];
  if (l.reconnecting) co_return;
  l.reconnecting = true;
  auto self = shared_from_this();
  std::chrono::milliseconds backoff{50};
  while (!closed_) {
    auto r = co_await connect(l, false);
    if (closed_) break;
    if (r) {
      l.up = true;
      l.gen++;
      l.in_flight = 0;
      stats_.reconnects++;
      notify();
      break;
    }
    asio::steady_timer t(strand_);
    t.expires_after(backoff);
    l.backoff = &t;
    co_await t.async_wait(as_tuple);
    l.backoff = nullptr;
    backoff = std::min<std::chrono::milliseconds>(backoff * 2, std::chrono::seconds(2));
  }
  if (closed_ && l.s && !l.up) {
    l.f.release();
    l.s->close();
    l.s.reset();
  }
  l.reconnecting = false;
}

void image::link_failed(const lease& ls) {
  link& l = *links_[ls.index];
  if (l.gen != ls.gen || !l.up) return;  // already known, or a connection that has been replaced
  l.up = false;
  l.in_flight = 0;
  l.f.release();
  if (l.s) l.s->close();
  l.s.reset();
  notify();
  if (!closed_) asio::co_spawn(strand_, reconnect(ls.index), asio::detached);
}

asio::awaitable<void> image::wait_change(clock::time_point until) {
  waiter w{asio::steady_timer(strand_, until)};
  waiters_.push_back(&w);
  co_await w.t.async_wait(as_tuple);
  waiters_.erase(std::find(waiters_.begin(), waiters_.end(), &w));
}

void image::notify() {
  for (waiter* w : waiters_) w->t.cancel();
}

std::error_code image::retry_error() const {
  return closed_ ? make_error_code(errc::connection_closed) : eio();
}

asio::awaitable<result<image::lease>> image::acquire(std::optional<clock::time_point>& retry) {
  for (;;) {
    if (closed_) co_return fail(make_error_code(errc::connection_closed));
    std::optional<std::size_t> best;
    bool any_up = false;
    const std::size_t n = links_.size();
    for (std::size_t k = 0; k < n; ++k) {
      std::size_t i = (next_link_ + k) % n;
      const link& l = *links_[i];
      if (!l.up) continue;
      any_up = true;
      if (l.in_flight >= opts_.max_in_flight) continue;
      if (!best || l.in_flight < links_[*best]->in_flight) best = i;
    }
    if (best) {
      next_link_ = (*best + 1) % n;
      link& l = *links_[*best];
      l.in_flight++;
      in_flight_++;
      stats_.max_in_flight = std::max(stats_.max_in_flight, in_flight_);
      co_return lease{*best, l.gen, l.s, l.f.fid(), l.max_io};
    }
    if (any_up) {
      co_await wait_change(never);  // every connection is busy: a reply frees a slot
      continue;
    }
    // No connection: wait for a reconnect, for up to retry_timeout.
    if (!retry) retry = clock::now() + opts_.retry_timeout;
    if (clock::now() >= *retry) co_return fail(retry_error());
    co_await wait_change(*retry);
  }
}

void image::release(const lease& ls) {
  in_flight_--;
  link& l = *links_[ls.index];
  if (l.gen == ls.gen && l.in_flight > 0) l.in_flight--;
  notify();
}

template <class F>
asio::awaitable<result<void>> image::with_retry(F f) {
  std::optional<clock::time_point> retry;
  bool again = false;
  for (;;) {
    auto l = co_await acquire(retry);
    if (!l) co_return fail(l.error());
    stats_.requests++;
    if (again) stats_.resent++;
    std::error_code ec = co_await f(*l);
    release(*l);
    if (!ec) co_return result<void>{};
    if (!lost_connection(ec)) co_return fail(ec);
    link_failed(*l);
    // A server that keeps breaking its connections (or lying) is given the same time as one
    // that stays away.
    if (!retry) retry = clock::now() + opts_.retry_timeout;
    if (clock::now() >= *retry) co_return fail(retry_error());
    again = true;
  }
}

asio::awaitable<result<void>> image::chunk(op kind, std::uint64_t offset, std::size_t length,
                                           std::byte* in, const std::byte* out) {
  std::size_t done = 0;
  std::error_code final_error;
  while (done < length && !final_error) {
    // One request per pass: the rest of a short transfer goes out again.
    auto r = co_await with_retry([&](const lease& l) -> asio::awaitable<std::error_code> {
      std::size_t n = std::min<std::size_t>(length - done, l.max_io);
      auto co = client::call_options::timeout(opts_.request_timeout);
      if (kind == op::read) {
        auto rep = co_await l.s->call(
            wire::Tread{l.fid, offset + done, static_cast<std::uint32_t>(n)}, co);
        if (!rep) co_return rep.error().code;
        // The session has checked that the reply is an Rread of at most n bytes.
        auto data = std::get<wire::Rread>(rep->msg.body).data.data;
        if (data.empty()) {  // the end of the file: a sparse tail reads as zeros
          std::memset(in + done, 0, length - done);
          done = length;
        } else {
          std::memcpy(in + done, data.data(), data.size());
          done += data.size();
        }
        co_return std::error_code{};
      }
      if (kind == op::zero) n = std::min(n, zeros_.size());
      std::span<const std::byte> payload(kind == op::zero ? zeros_.data() : out + done, n);
      auto rep = co_await l.s->call(wire::Twrite{l.fid, offset + done, wire::payload{payload}}, co);
      if (!rep) co_return rep.error().code;
      std::uint32_t count = std::get<wire::Rwrite>(rep->msg.body).count;
      if (count > n) co_return make_error_code(errc::unexpected_reply);
      if (count == 0) {
        final_error = eio();  // the server wrote nothing and gave no reason
        co_return std::error_code{};
      }
      done += count;
      co_return std::error_code{};
    });
    if (!r) co_return r;
  }
  if (final_error) co_return fail(final_error);
  co_return result<void>{};
}

asio::awaitable<result<void>> image::io(op kind, std::uint64_t offset, std::size_t length,
                                        std::byte* in, const std::byte* out) {
  if (length == 0) co_return result<void>{};
  if (opts_.readonly && kind != op::read)
    co_return fail(std::make_error_code(std::errc::read_only_file_system));
  const std::size_t chunks = (length + chunk_ - 1) / chunk_;
  // Every chunk goes out before the first reply is awaited, up to the connections' slots.
  const std::size_t slots = links_.size() * opts_.max_in_flight;
  std::size_t next = 0;
  std::size_t active = std::min(chunks, slots);
  std::error_code err;
  asio::steady_timer done(strand_, never);
  for (std::size_t k = 0, workers = active; k < workers; ++k) {
    asio::co_spawn(
        strand_,
        [&]() -> asio::awaitable<void> {
          while (next < chunks && !err) {
            std::size_t i = next++;
            std::size_t off = i * chunk_;
            std::size_t len = std::min<std::size_t>(chunk_, length - off);
            auto r = co_await chunk(kind, offset + off, len, in ? in + off : nullptr,
                                    out ? out + off : nullptr);
            if (!r && !err) err = r.error();
          }
          if (--active == 0) done.cancel();
        },
        asio::detached);
  }
  while (active > 0) co_await done.async_wait(as_tuple);
  if (err) co_return fail(err);
  co_return result<void>{};
}

asio::awaitable<result<void>> image::flush_impl() {
  co_return co_await with_retry([this](const lease& l) -> asio::awaitable<std::error_code> {
    auto co = client::call_options::timeout(opts_.request_timeout);
    if (l.s->dialect() == wire::dialect::v2000L) {
      auto r = co_await l.s->call(wire::Tfsync{l.fid, 0}, co);
      co_return r ? std::error_code{} : r.error().code;
    }
    auto r = co_await l.s->call(wire::Twstat{l.fid, wire::stat::unchanged()}, co);
    co_return r ? std::error_code{} : r.error().code;
  });
}

asio::awaitable<result<void>> image::read(std::uint64_t offset, std::span<std::byte> out) {
  auto self = shared_from_this();
  co_return co_await asio::co_spawn(strand_, io(op::read, offset, out.size(), out.data(), nullptr),
                                    asio::use_awaitable);
}

asio::awaitable<result<void>> image::write(std::uint64_t offset, std::span<const std::byte> data,
                                           bool fua) {
  auto self = shared_from_this();
  auto r = co_await asio::co_spawn(
      strand_, io(op::write, offset, data.size(), nullptr, data.data()), asio::use_awaitable);
  if (!r || !fua) co_return r;
  co_return co_await flush();
}

asio::awaitable<result<void>> image::write_zeroes(std::uint64_t offset, std::uint64_t length,
                                                  bool fua) {
  auto self = shared_from_this();
  auto r = co_await asio::co_spawn(
      strand_, io(op::zero, offset, static_cast<std::size_t>(length), nullptr, nullptr),
      asio::use_awaitable);
  if (!r || !fua) co_return r;
  co_return co_await flush();
}

asio::awaitable<result<void>> image::flush() {
  auto self = shared_from_this();
  if (opts_.readonly) co_return result<void>{};
  co_return co_await asio::co_spawn(strand_, flush_impl(), asio::use_awaitable);
}

asio::awaitable<result<void>> image::resize(std::uint64_t new_size) {
  auto self = shared_from_this();
  if (opts_.readonly) co_return fail(std::make_error_code(std::errc::read_only_file_system));
  auto impl = [this, new_size]() -> asio::awaitable<result<void>> {
    auto r = co_await with_retry([&](const lease& l) -> asio::awaitable<std::error_code> {
      client::set_attr a;
      a.size = new_size;
      auto s = co_await l.s->setattr(opts_.path, a,
                                     client::call_options::timeout(opts_.request_timeout));
      co_return s ? std::error_code{} : s.error().code;
    });
    if (r) size_ = new_size;
    co_return r;
  };
  co_return co_await asio::co_spawn(strand_, impl(), asio::use_awaitable);
}

asio::awaitable<void> image::close() {
  auto self = shared_from_this();
  auto impl = [this]() -> asio::awaitable<void> {
    if (closed_) co_return;
    closed_ = true;
    notify();
    for (auto& l : links_) {
      if (l->backoff) l->backoff->cancel();
      if (!l->up || !l->s) continue;
      l->up = false;
      auto s = l->s;
      auto co = client::call_options::timeout(std::chrono::seconds(2));
      co_await s->clunk(std::move(l->f), co);
      co_await s->shutdown(co);
      l->s.reset();
    }
  };
  co_await asio::co_spawn(strand_, impl(), asio::use_awaitable);
}

asio::awaitable<image_stats> image::stats() {
  auto self = shared_from_this();
  co_return co_await asio::co_spawn(
      strand_, [this]() -> asio::awaitable<image_stats> { co_return stats_; }, asio::use_awaitable);
}

}  // namespace ninep::block
