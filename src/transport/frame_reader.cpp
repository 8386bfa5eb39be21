// SPDX-License-Identifier: MIT
#include <asio/experimental/as_tuple.hpp>
#include <asio/read.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <cstring>
#include <ninep/core/error.hpp>
#include <ninep/transport/frame_reader.hpp>
#include <ninep/wire/codec.hpp>
#include <optional>

namespace ninep::transport {
namespace {
constexpr auto as_tuple = asio::experimental::as_tuple(asio::use_awaitable);
// Replies and requests other than I/O fit in this (Rstat, Rreadlink and Twalk are the largest
// common ones, well under it); anything larger comes from the msize pool.
constexpr std::size_t small_block = 8192;
}  // namespace

frame_pools frame_pools::make(std::uint32_t max_msize) {
  return {std::make_shared<buffer_pool>(small_block, 1024),
          std::make_shared<buffer_pool>(std::max<std::size_t>(max_msize, small_block), 64)};
}

buffer frame_pools::get(std::size_t n) const {
  if (n <= small->block_size()) return buffer(small, n);
  if (n <= large->block_size()) return buffer(large, n);
  return buffer(n);
}

void frame_reader::arm(asio::steady_timer& timer, clock::time_point deadline) {
  timer.expires_at(deadline);
  timer.async_wait([gen = std::weak_ptr(timer_generation_), armed = *timer_generation_,
                    s = &s_](std::error_code ec) {
    auto live = gen.lock();  // the reader, and so its stream, still exist
    if (!ec && live && *live == armed) {
      std::error_code ignored;
      s->cancel(ignored);
    }
  });
}

void frame_reader::disarm(asio::steady_timer& timer) noexcept {
  ++*timer_generation_;
  timer.cancel();
}

asio::awaitable<std::error_code> frame_reader::fill(std::optional<clock::time_point> deadline) {
  if (begin_ == end_) begin_ = end_ = 0;
  if (end_ == buf_.size()) {
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  // Only a started frame is timed: an idle connection between frames may wait indefinitely.
  std::optional<asio::steady_timer> timer;
  if (deadline) arm(timer.emplace(s_.get_executor()), *deadline);
  auto [ec, n] =
      co_await s_.async_read_some(asio::buffer(buf_.data() + end_, buf_.size() - end_), as_tuple);
  if (timer) disarm(*timer);
  if (ec == asio::error::eof)
    co_return deadline ? make_error_code(errc::need_more)
                       : make_error_code(errc::connection_closed);
  if (ec) co_return ec;
  end_ += n;
  co_return std::error_code{};
}

std::error_code frame_reader::try_fill() noexcept {
  if (begin_ == end_) begin_ = end_ = 0;
  if (end_ == buf_.size()) {
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
    if (end_ == buf_.size()) return make_error_code(errc::need_more);
  }
  std::error_code ec;
  std::size_t n = s_.read_some(asio::buffer(buf_.data() + end_, buf_.size() - end_), ec);
  end_ += n;
  if (!ec && n == 0) ec = make_error_code(errc::connection_closed);
  return ec;
}

asio::awaitable<result<buffer>> frame_reader::read(std::uint32_t msize,
                                                   std::chrono::milliseconds frame_timeout) {
  // The frame's deadline runs from its first byte and is never extended, however the bytes
  // trickle in. Bytes already buffered count from now: the caller may have paused reading (a
  // full request window), which is not the peer's delay.
  std::optional<clock::time_point> deadline;
  if (begin_ != end_) deadline = clock::now() + frame_timeout;
  while (end_ - begin_ < 4) {
    if (auto ec = co_await fill(deadline)) co_return fail(ec);
    if (!deadline) deadline = clock::now() + frame_timeout;
  }
  std::uint32_t size = 0;
  for (int i = 3; i >= 0; --i)
    size = (size << 8) | std::to_integer<std::uint32_t>(buf_[begin_ + i]);
  if (size < wire::header_size || size > msize) co_return fail(make_error_code(errc::bad_size));

  buffer frame = pools_.get(size);
  std::size_t have = std::min<std::size_t>(end_ - begin_, size);
  std::memcpy(frame.data(), buf_.data() + begin_, have);
  begin_ += have;
  if (have == size) co_return frame;

  if (size - have > buf_.size() / 2) {
    // A large frame (a big Twrite or Rread): read its rest straight into place, uncopied.
    // On a non-blocking stream (the server's), take what has already arrived first: usually
    // the whole frame, and then no timer is armed (each costs a timerfd_settime).
    if (s_.non_blocking()) {
      std::error_code ec;
      while (have < size && !ec)
        have += s_.read_some(asio::buffer(frame.data() + have, size - have), ec);
      if (have == size) co_return frame;
      if (ec == asio::error::eof) co_return fail(make_error_code(errc::need_more));
      if (ec && ec != asio::error::would_block && ec != asio::error::try_again) co_return fail(ec);
    }
    asio::steady_timer timer(s_.get_executor());
    arm(timer, *deadline);
    auto [ec, n] =
        co_await asio::async_read(s_, asio::buffer(frame.data() + have, size - have), as_tuple);
    disarm(timer);
    if (ec == asio::error::eof) co_return fail(make_error_code(errc::need_more));
    if (ec) co_return fail(ec);
    co_return frame;
  }
  while (have < size) {
    if (begin_ == end_) {
      if (auto ec = co_await fill(deadline)) co_return fail(ec);
    }
    std::size_t take = std::min(end_ - begin_, size - have);
    std::memcpy(frame.data() + have, buf_.data() + begin_, take);
    begin_ += take;
    have += take;
  }
  co_return frame;
}

}  // namespace ninep::transport
