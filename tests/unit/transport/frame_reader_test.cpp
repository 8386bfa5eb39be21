// SPDX-License-Identifier: MIT
// transport::frame_reader against a real unix socket whose other end misbehaves on purpose:
// frames cut at every byte, many frames in one write, frames larger than the reader's own
// buffer, bad size fields, end of stream inside and between frames, a stalled half frame, and
// the race where a deadline timer fires as its frame completes (its queued handler must not
// cancel the next, unrelated read).
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>
#include <chrono>
#include <cstring>
#include <ninep/core/error.hpp>
#include <ninep/transport/frame_reader.hpp>
#include <thread>
#include <vector>

namespace ninep::transport {
namespace {

using namespace std::chrono_literals;
constexpr std::uint32_t msize = 64 * 1024;

/// A frame of `size` bytes: size[4] little-endian, then bytes that encode their own position
/// (so a frame put together from the wrong pieces is noticed).
std::vector<std::byte> frame(std::uint32_t size, std::uint8_t seed = 0) {
  std::vector<std::byte> f(size);
  for (std::uint32_t i = 0; i < size; ++i)
    f[i] = std::byte(static_cast<std::uint8_t>(i * 7 + seed));
  for (int i = 0; i < 4; ++i) f[i] = std::byte(static_cast<std::uint8_t>(size >> (8 * i)));
  return f;
}

/// One end of a socketpair as a transport::stream, the other as a plain fd that the test
/// writes to (from its own thread where the reader must be waiting meanwhile).
struct pipe_rig {
  asio::io_context io;
  std::unique_ptr<stream> s;
  int peer = -1;
  std::unique_ptr<frame_reader> reader;

  pipe_rig() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) throw std::runtime_error("socketpair");
    s = std::make_unique<stream>(io, asio::generic::stream_protocol(AF_UNIX, SOCK_STREAM), fds[0]);
    peer = fds[1];
    reader = std::make_unique<frame_reader>(*s, frame_pools::make(msize));
  }
  ~pipe_rig() {
    reader.reset();
    if (peer >= 0) ::close(peer);
  }
  void send(std::span<const std::byte> b) const {
    while (!b.empty()) {
      ssize_t n = ::write(peer, b.data(), b.size());
      if (n <= 0) throw std::runtime_error("write");
      b = b.subspan(static_cast<std::size_t>(n));
    }
  }
  void close_peer() {
    ::close(peer);
    peer = -1;
  }
  /// Runs one read to completion on this thread.
  result<buffer> read(std::chrono::milliseconds timeout = 10s) {
    auto f = asio::co_spawn(io, reader->read(msize, timeout), asio::use_future);
    io.restart();
    io.run();
    return f.get();
  }
};

bool same(const buffer& b, const std::vector<std::byte>& want) {
  return b.size() == want.size() && std::memcmp(b.data(), want.data(), want.size()) == 0;
}

TEST(frame_reader, frame_cut_at_every_byte_is_whole) {
  pipe_rig r;
  auto f = frame(300, 1);
  std::thread writer([&] {
    for (std::size_t i = 0; i < f.size(); ++i) {
      r.send(std::span(f).subspan(i, 1));
      if (i % 16 == 0) std::this_thread::sleep_for(1ms);  // let the reader wake on a part
    }
  });
  auto got = r.read();
  writer.join();
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_TRUE(same(*got, f));
}

TEST(frame_reader, many_frames_in_one_write_come_out_one_by_one) {
  pipe_rig r;
  std::vector<std::vector<std::byte>> frames;
  std::vector<std::byte> all;
  for (std::uint32_t i = 0; i < 50; ++i) {
    frames.push_back(frame(7 + i * 3, static_cast<std::uint8_t>(i)));
    all.insert(all.end(), frames.back().begin(), frames.back().end());
  }
  r.send(all);
  for (std::size_t i = 0; i < frames.size(); ++i) {
    auto got = r.read();
    ASSERT_TRUE(got) << i << ": " << got.error().message();
    EXPECT_TRUE(same(*got, frames[i])) << "frame " << i;
  }
  EXPECT_FALSE(r.reader->has_frame());
}

TEST(frame_reader, frame_larger_than_its_buffer_then_a_small_one) {
  pipe_rig r;
  auto big = frame(40000, 3), small = frame(20, 4);
  std::vector<std::byte> both(big);
  both.insert(both.end(), small.begin(), small.end());
  std::thread writer([&] { r.send(both); });  // more than the socket buffer may hold at once
  auto a = r.read();
  auto b = r.read();
  writer.join();
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(same(*a, big));
  EXPECT_TRUE(same(*b, small));
}

TEST(frame_reader, size_below_header_or_above_msize_is_bad_size) {
  for (std::uint32_t size : {0u, 6u, msize + 1, 0xffffffffu}) {
    pipe_rig r;
    std::byte head[7] = {};
    for (int i = 0; i < 4; ++i) head[i] = std::byte(static_cast<std::uint8_t>(size >> (8 * i)));
    r.send(head);
    auto got = r.read();
    ASSERT_FALSE(got) << size;
    EXPECT_EQ(got.error(), make_error_code(errc::bad_size)) << size;
  }
}

TEST(frame_reader, end_of_stream_between_and_inside_frames) {
  {
    pipe_rig r;
    r.send(frame(10));
    r.close_peer();
    EXPECT_TRUE(r.read());
    auto end = r.read();
    ASSERT_FALSE(end);
    EXPECT_EQ(end.error(), make_error_code(errc::connection_closed));
  }
  {
    pipe_rig r;
    auto f = frame(100);
    r.send(std::span(f).first(50));
    r.close_peer();
    auto cut = r.read();
    ASSERT_FALSE(cut) << "half a frame is not a frame";
  }
}

TEST(frame_reader, stalled_half_frame_fails_at_its_deadline) {
  pipe_rig r;
  auto f = frame(100);
  r.send(std::span(f).first(10));  // and nothing more, with the peer still connected
  auto got = r.read(50ms);
  ASSERT_FALSE(got) << "a stalled frame must not wait forever";
}

// The race of a deadline that passes as the frame completes: the timer's handler is already
// queued when the frame's read returns, and cancelling the timer does not recall it. Without
// the generation check it cancelled whatever read came next, here a read of a frame that
// arrives whole, later. Many rounds, each timing the end of a frame around its deadline.
TEST(frame_reader, deadline_firing_as_a_frame_completes_does_not_cancel_the_next_read) {
  int spurious = 0, rounds_with_first_frame = 0;
  for (int round = 0; round < 150; ++round) {
    pipe_rig r;
    auto first = frame(64, 1), second = frame(64, 2);
    std::thread writer([&] {
      r.send(std::span(first).first(5));
      std::this_thread::sleep_for(std::chrono::microseconds(1500 + (round % 10) * 100));
      r.send(std::span(first).subspan(5));
      std::this_thread::sleep_for(3ms);
      r.send(second);
    });
    // Both reads in one coroutine, as a connection's read loop does: the second read is
    // already waiting on the stream when a stale timer handler would run.
    auto both = asio::co_spawn(
        r.io,
        [&]() -> asio::awaitable<std::pair<result<buffer>, result<buffer>>> {
          auto x = co_await r.reader->read(msize, 2ms);
          if (!x) co_return std::pair{std::move(x), result<buffer>(fail(x.error()))};
          auto y = co_await r.reader->read(msize, 2ms);
          co_return std::pair{std::move(x), std::move(y)};
        },
        asio::use_future);
    r.io.run();
    auto [a, b] = both.get();
    if (a) {
      ++rounds_with_first_frame;
      if (!b)
        ++spurious;
      else
        EXPECT_TRUE(same(*b, second));
    }
    writer.join();
  }
  EXPECT_EQ(spurious, 0) << "a stale deadline cancelled a later read (" << rounds_with_first_frame
                         << " rounds read the first frame in time)";
}

}  // namespace
}  // namespace ninep::transport
