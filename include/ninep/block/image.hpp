// SPDX-License-Identifier: MIT
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/strand.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <ninep/client/session.hpp>
#include <ninep/transport/address.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

/// \file
/// A disk image that is a file on a 9P server: reads and writes of any length at any offset,
/// split into one-message chunks that are all in flight at once and spread over one or more
/// connections; flush (Tfsync), write-zeroes, resize; and reconnection that re-sends every
/// request the server had not acknowledged. No NBD types: the nbdkit plugin (plugins/nbdkit)
/// and any later block front end share it.

namespace ninep::block {

/// How to reach and serve the image.
struct image_options {
  /// Where the 9P server listens (tcp!host!port, unix!/path, host:port).
  std::string address;
  /// The image file, relative to the attach root.
  std::string path;
  /// Dialect, msize, uname, aname, authentication of every connection.
  /// client::options::connect_timeout is replaced by request_timeout.
  client::options session;
  /// 9P connections to open; requests are spread over them (at least 1).
  std::size_t connections = 1;
  /// How long a request waits for a lost connection to come back (redial with backoff,
  /// re-attach, re-walk, re-open, re-send) before it fails with EIO.
  std::chrono::milliseconds retry_timeout{60000};
  /// A request with no reply after this long means the connection is dead: it is closed,
  /// redialled, and the request re-sent. Also bounds each redial and handshake.
  std::chrono::milliseconds request_timeout{30000};
  /// Requests one connection keeps in flight at most (each up to one msize).
  std::size_t max_in_flight = 256;
  /// Open the file read-only; writes fail with EROFS.
  bool readonly = false;
  /// When the file does not exist: create it, sparse, with this size.
  std::optional<std::uint64_t> create_size;
};

/// Counters for tests and diagnostics.
struct image_stats {
  std::uint64_t requests = 0;     ///< Tread/Twrite/Tfsync/Tsetattr sent (re-sends included)
  std::uint64_t resent = 0;       ///< requests sent again after a lost connection
  std::uint64_t reconnects = 0;   ///< connections re-established
  std::size_t max_in_flight = 0;  ///< the most requests in flight at once, all connections
};

/// An open image. Create with open(); share as std::shared_ptr. Every member may be called from
/// any thread and any executor, concurrently; state lives on the image's strand. Buffers passed
/// to an operation must stay valid until it completes (even when it fails, every chunk has
/// finished with the buffer by then).
///
/// A write completes only once every Rwrite has arrived; a flush only once Rfsync has (Twstat in
/// 9P2000/.u). A request whose connection is lost, or that has no reply within
/// request_timeout, is sent again on a connection that is (re-)established; after retry_timeout
/// without one it fails with std::errc::io_error. Errors from the server (the errno of Rlerror,
/// or of a known Rerror string) are returned as they are, in std::generic_category(). After
/// close(): errc::connection_closed.
class image : public std::enable_shared_from_this<image> {
 public:
  using strand_type = asio::strand<asio::any_io_executor>;

  /// Dials every connection, attaches, walks to the file, opens it (creating it if asked) and
  /// reads its size. Nothing here is retried: a mistake in the configuration fails at once,
  /// with a message naming the address, the path and the reason. Runs on `ex`.
  static asio::awaitable<client::outcome<std::shared_ptr<image>>> open(asio::any_io_executor ex,
                                                                       image_options o);
  ~image();
  image(const image&) = delete;
  image& operator=(const image&) = delete;

  /// The size in bytes (read at open, changed by resize()).
  std::uint64_t size() const noexcept { return size_; }
  /// The largest chunk one request carries: the smallest msize payload (or iounit) of the
  /// connections at open.
  std::uint32_t max_chunk() const noexcept { return chunk_; }
  /// The dialect negotiated at open.
  wire::dialect dialect() const noexcept { return dialect_; }
  const image_options& options() const noexcept { return opts_; }

  /// Fills `out` from `offset`. Bytes beyond the file's end read as zeros.
  asio::awaitable<result<void>> read(std::uint64_t offset, std::span<std::byte> out);
  /// Writes `data` at `offset`; with `fua`, then flushes.
  asio::awaitable<result<void>> write(std::uint64_t offset, std::span<const std::byte> data,
                                      bool fua = false);
  /// Writes `length` zero bytes at `offset` (9P has no hole punching: zeros are sent).
  asio::awaitable<result<void>> write_zeroes(std::uint64_t offset, std::uint64_t length,
                                             bool fua = false);
  /// Makes the data written so far durable (Tfsync; a "no change" Twstat in 9P2000/.u).
  asio::awaitable<result<void>> flush();
  /// Changes the file's size (Tsetattr, or Twstat length).
  asio::awaitable<result<void>> resize(std::uint64_t new_size);
  /// Fails every pending and later request with errc::connection_closed, stops reconnecting and
  /// says goodbye to the server (Tclunk). Idempotent.
  asio::awaitable<void> close();

  /// Counters (a snapshot taken on the strand).
  asio::awaitable<image_stats> stats();

 private:
  struct link;
  struct waiter;
  struct lease {
    std::size_t index = 0;
    std::uint64_t gen = 0;
    std::shared_ptr<client::session> s;
    wire::fid_t fid = wire::nofid;
    std::uint32_t max_io = 0;
  };
  enum class op : std::uint8_t { read, write, zero };

  image(asio::any_io_executor ex, image_options o);

  asio::awaitable<client::outcome<void>> connect(link& l, bool first);
  asio::awaitable<void> reconnect(std::size_t index);
  asio::awaitable<result<lease>> acquire(
      std::optional<std::chrono::steady_clock::time_point>& retry);
  void release(const lease& l);
  void link_failed(const lease& l);
  asio::awaitable<void> wait_change(std::chrono::steady_clock::time_point until);
  void notify();
  std::error_code retry_error() const;
  asio::awaitable<result<void>> io(op kind, std::uint64_t offset, std::size_t length, std::byte* in,
                                   const std::byte* out);
  asio::awaitable<result<void>> chunk(op kind, std::uint64_t offset, std::size_t length,
                                      std::byte* in, const std::byte* out);
  template <class F>
  asio::awaitable<result<void>> with_retry(F f);
  asio::awaitable<result<void>> flush_impl();

  strand_type strand_;
  image_options opts_;
  transport::address addr_;
  std::vector<std::unique_ptr<link>> links_;
  std::vector<waiter*> waiters_;
  std::size_t next_link_ = 0;
  std::size_t in_flight_ = 0;
  std::uint64_t size_ = 0;
  std::uint32_t chunk_ = 0;
  wire::dialect dialect_ = wire::dialect::v2000L;
  bool closed_ = false;
  image_stats stats_;
  std::vector<std::byte> zeros_;
};

}  // namespace ninep::block
