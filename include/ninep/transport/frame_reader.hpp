// SPDX-License-Identifier: MIT
#pragma once

#include <array>
#include <asio/awaitable.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <ninep/core/buffer.hpp>
#include <ninep/core/result.hpp>
#include <ninep/transport/address.hpp>
#include <optional>
#include <system_error>

namespace ninep::transport {

/// The two size classes of frame buffers: small messages (most requests and replies) and
/// msize-sized ones (Twrite, Rread, Rreaddir). Shared by all connections of a server or client.
struct frame_pools {
  std::shared_ptr<buffer_pool> small;
  std::shared_ptr<buffer_pool> large;

  /// Pools for frames up to `max_msize` bytes.
  static frame_pools make(std::uint32_t max_msize);
  /// A buffer of n bytes from the smallest pool that fits (n <= large block size).
  buffer get(std::size_t n) const;
};

/// Splits a byte stream into 9P frames. Small frames are read many at a time through an internal
/// buffer; a large frame's body is read straight into its own buffer. Not thread-safe: one
/// coroutine reads. The stream must outlive the reader.
class frame_reader {
 public:
  frame_reader(stream& s, frame_pools pools) : s_(s), pools_(std::move(pools)) {}

  /// The next complete frame, size[4] included, at most `msize` bytes. If a frame has started
  /// and is not complete within `frame_timeout` of its first byte (of this call, for bytes
  /// already buffered), the stream's read is cancelled and read() fails: a slow or stalled
  /// peer cannot hold a half-sent frame forever, nor stretch it by trickling bytes.
  /// Errors: errc::bad_size (size field below 7 or above msize: the stream cannot be
  /// resynchronised, close it), errc::connection_closed (end of stream between frames),
  /// asio errors (including operation_aborted after the timeout).
  asio::awaitable<result<buffer>> read(std::uint32_t msize,
                                       std::chrono::milliseconds frame_timeout);

  /// Whether a whole frame is already buffered, so that read() returns it without waiting for
  /// the stream.
  bool has_frame() const noexcept {
    if (end_ - begin_ < 4) return false;
    std::uint32_t size = 0;
    for (int i = 3; i >= 0; --i)
      size = (size << 8) | std::to_integer<std::uint32_t>(buf_[begin_ + i]);
    return size <= end_ - begin_;
  }

  /// Takes what the stream holds right now into the buffer, without waiting (the stream must be
  /// in non-blocking mode). Returns would_block when nothing is there yet; end of stream and
  /// errors are left for read() to report, with another code.
  std::error_code try_fill() noexcept;

 private:
  using clock = std::chrono::steady_clock;
  // Reads what the stream has; with a deadline (a frame has started), fails once it passes.
  asio::awaitable<std::error_code> fill(std::optional<clock::time_point> deadline);
  // Starts `timer`, which cancels the stream's reads at `deadline`, unless disarm() (or the
  // reader's destruction) comes first. A timer that has already fired has its handler queued,
  // and cancelling the timer does not recall it: the generation check does.
  void arm(asio::steady_timer& timer, clock::time_point deadline);
  void disarm(asio::steady_timer& timer) noexcept;

  stream& s_;
  std::shared_ptr<std::uint64_t> timer_generation_ = std::make_shared<std::uint64_t>(0);
  frame_pools pools_;
  std::array<std::byte, 8192> buf_{};  // small frames, many per read; large ones bypass it
  std::size_t begin_ = 0, end_ = 0;
};

}  // namespace ninep::transport
