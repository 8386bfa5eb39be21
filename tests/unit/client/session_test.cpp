// SPDX-License-Identifier: MIT
// The client against a tiny in-process server that stalls reads until they are flushed.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>
#include <atomic>
#include <chrono>
#include <mutex>
#include <ninep/client/client.hpp>
#include <ninep/core/error.hpp>
#include <ninep/wire/codec.hpp>
#include <ninep/wire/dotl.hpp>
#include <thread>
#include <vector>

namespace ninep::client {
namespace {

using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;

/// A blocking, single-connection 9P2000.L server on a loopback port. It answers Tversion,
/// Tattach, Twalk, Tlopen, Tgetattr and Tclunk; it never answers a Tread. A Tflush is answered
/// with Rflush after `flush_delay`. Every request is logged with the time it arrived.
class stalling_server {
 public:
  struct event {
    wire::msg_type type;
    wire::tag_t tag;
    wire::tag_t oldtag;  // Tflush only
    clock::time_point at;
  };

  stalling_server() : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::thread([this] { serve(); });
  }
  ~stalling_server() {
    stop_ = true;
    // shutdown(2) wakes the thread blocked in accept or recv; the sockets are closed only once
    // it has ended (closing a descriptor another thread waits on is a race: TSan reports it).
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    {
      std::lock_guard l(mu_);
      if (sock_) ::shutdown(sock_->native_handle(), SHUT_RDWR);
    }
    thread_.join();
  }

  std::string address() const {
    return "tcp!127.0.0.1!" + std::to_string(acceptor_.local_endpoint().port());
  }
  std::vector<event> log() {
    std::lock_guard l(mu_);
    return log_;
  }
  clock::time_point rflush_sent() {
    std::lock_guard l(mu_);
    return rflush_sent_;
  }
  /// Drops the connection (the client must fail pending calls, not hang).
  void disconnect() {
    std::lock_guard l(mu_);
    std::error_code ignored;
    if (sock_) sock_->shutdown(asio::socket_base::shutdown_both, ignored);
  }

  std::chrono::milliseconds flush_delay{300};

 private:
  void send(const wire::message& m) {
    std::vector<std::byte> out(wire::encoded_size(m, wire::dialect::v2000L));
    auto n = wire::encode(m, wire::dialect::v2000L, out);
    if (!n) return;
    std::lock_guard l(write_mu_);
    std::error_code ec;
    asio::write(*sock_, asio::buffer(out.data(), *n), ec);
  }

  bool read_exact(std::byte* p, std::size_t n) {
    std::error_code ec;
    asio::read(*sock_, asio::buffer(p, n), ec);
    return !ec;
  }

  void serve() {
    std::error_code ec;
    auto s = std::make_unique<asio::ip::tcp::socket>(io_);
    acceptor_.accept(*s, ec);
    if (ec) return;
    {
      std::lock_guard l(mu_);
      sock_ = std::move(s);
    }
    std::vector<std::thread> flushers;
    while (!stop_) {
      std::array<std::byte, 4> size_bytes;
      if (!read_exact(size_bytes.data(), 4)) break;
      std::uint32_t size = 0;
      for (int i = 3; i >= 0; --i)
        size = (size << 8) | std::to_integer<std::uint32_t>(size_bytes[i]);
      if (size < 7 || size > 1 << 20) break;
      std::vector<std::byte> f(size);
      std::copy(size_bytes.begin(), size_bytes.end(), f.begin());
      if (!read_exact(f.data() + 4, size - 4)) break;
      auto m = wire::decode(f, wire::dialect::v2000L);
      if (!m) break;
      event e{wire::type_of(m->body), m->tag, 0, clock::now()};
      if (auto* fl = std::get_if<wire::Tflush>(&m->body)) e.oldtag = fl->oldtag;
      {
        std::lock_guard l(mu_);
        log_.push_back(e);
      }
      std::visit(
          [&](const auto& req) {
            using T = std::decay_t<decltype(req)>;
            if constexpr (std::is_same_v<T, wire::Tversion>) {
              send({m->tag, wire::Rversion{std::min<std::uint32_t>(req.msize, 65536), "9P2000.L"}});
            } else if constexpr (std::is_same_v<T, wire::Tattach>) {
              send({m->tag, wire::Rattach{{wire::qt::dir, 0, 1}}});
            } else if constexpr (std::is_same_v<T, wire::Twalk>) {
              wire::Rwalk r;
              for (std::size_t i = 0; i < req.wnames.size(); ++i) r.qids.push_back({0, 0, 2 + i});
              send({m->tag, r});
            } else if constexpr (std::is_same_v<T, wire::Tlopen>) {
              send({m->tag, wire::Rlopen{{0, 0, 2}, 0}});
            } else if constexpr (std::is_same_v<T, wire::Tgetattr>) {
              wire::Rgetattr g;
              g.valid = wire::dotl::getattr_basic;
              g.mode = 0100644;
              g.size = 42;
              send({m->tag, g});
            } else if constexpr (std::is_same_v<T, wire::Tclunk>) {
              send({m->tag, wire::Rclunk{}});
            } else if constexpr (std::is_same_v<T, wire::Tflush>) {
              // Rflush later, from another thread, while other requests keep being served
              // (at once with no delay).
              wire::tag_t tag = m->tag;
              if (flush_delay.count() == 0) {
                send({tag, wire::Rflush{}});
                return;
              }
              flushers.emplace_back([this, tag] {
                std::this_thread::sleep_for(flush_delay);
                {
                  std::lock_guard l(mu_);
                  rflush_sent_ = clock::now();
                }
                send({tag, wire::Rflush{}});
              });
            } else if constexpr (std::is_same_v<T, wire::Tread>) {
              // Stall: never answered.
            } else {
              send({m->tag, wire::Rlerror{EOPNOTSUPP}});
            }
          },
          m->body);
    }
    for (auto& t : flushers) t.join();
  }

  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::unique_ptr<asio::ip::tcp::socket> sock_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mu_, write_mu_;
  std::vector<event> log_;
  clock::time_point rflush_sent_{};
};

options dotl() {
  options o;
  o.dialect = wire::dialect::v2000L;
  o.msize = 65536;
  o.uname = "test";
  return o;
}

TEST(Session, DeadlineSendsTflushAndHoldsTheTagUntilRflush) {
  stalling_server srv;
  auto c = client::connect(srv.address(), dotl());
  ASSERT_TRUE(c) << c.error().message();
  auto f = (*c)->open("file", wire::dotl::rdonly);
  ASSERT_TRUE(f) << f.error().message();

  std::vector<std::byte> buf(100);
  auto start = clock::now();
  auto r = (*c)->read(*f, 0, buf, call_options::timeout(200ms));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), std::errc::timed_out);
  EXPECT_LT(clock::now() - start, 2s);

  // While the Rflush is delayed, the connection stays usable, and never with the flushed tag.
  for (int i = 0; i < 5; ++i) {
    auto st = (*c)->stat("file", call_options::timeout(5s));
    ASSERT_TRUE(st) << st.error().message();
    EXPECT_EQ(st->size, 42u);
  }
  std::this_thread::sleep_for(srv.flush_delay + 200ms);
  auto after = (*c)->stat("file", call_options::timeout(5s));
  ASSERT_TRUE(after) << after.error().message();

  auto log = srv.log();
  auto read = std::find_if(log.begin(), log.end(),
                           [](const auto& e) { return e.type == wire::msg_type::Tread; });
  ASSERT_NE(read, log.end());
  auto flush = std::find_if(log.begin(), log.end(),
                            [](const auto& e) { return e.type == wire::msg_type::Tflush; });
  ASSERT_NE(flush, log.end()) << "the cancelled call sent no Tflush";
  EXPECT_EQ(flush->oldtag, read->tag);
  EXPECT_GT(flush->at, read->at);
  auto rflush = srv.rflush_sent();
  for (auto it = std::next(read); it != log.end(); ++it) {
    if (it->at < rflush) {
      EXPECT_NE(it->tag, read->tag) << "tag reused before Rflush";
    }
  }
  EXPECT_EQ((*c)->async().stats().flushes, 1u);
}

TEST(Session, StopTokenCancels) {
  stalling_server srv;
  srv.flush_delay = 10ms;
  auto c = client::connect(srv.address(), dotl());
  ASSERT_TRUE(c);
  auto f = (*c)->open("file", wire::dotl::rdonly);
  ASSERT_TRUE(f);
  std::stop_source stop;
  std::thread canceller([&] {
    std::this_thread::sleep_for(100ms);
    stop.request_stop();
  });
  std::vector<std::byte> buf(100);
  auto r = (*c)->read(*f, 0, buf, {clock::time_point::max(), stop.get_token()});
  canceller.join();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), errc::cancelled);
  EXPECT_TRUE((*c)->stat("file"));
}

// More calls than tags: the ones that find every tag in flight wait for one, in order, and the
// Tflushes that cancel the tag holders still get through (tags are kept for them).
TEST(Session, CallsBeyondTheTagTableWaitForATag) {
  stalling_server srv;
  srv.flush_delay = 0ms;
  auto c = client::connect(srv.address(), dotl());
  ASSERT_TRUE(c);
  auto f = (*c)->open("file", wire::dotl::rdonly);
  ASSERT_TRUE(f);
  session& s = (*c)->async();

  asio::io_context io;
  auto work = asio::make_work_guard(io);
  constexpr int reads = 5000, stats = 20;  // the table holds 4096 tags
  std::stop_source stop_reads;
  int left = reads + stats, reads_cancelled = 0, stats_answered = 0;
  std::vector<std::string> other_errors;
  auto finished = [&] {
    if (--left == 0) work.reset();
  };
  for (int i = 0; i < reads; ++i) {
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          std::array<std::byte, 16> buf{};
          // Named: g++ 12 destroys a braced temporary argument of a co_await twice.
          call_options until_stopped{clock::time_point::max(), stop_reads.get_token()};
          auto r = co_await s.read(*f, 0, buf, until_stopped);
          if (!r && r.error() == errc::cancelled)
            reads_cancelled++;
          else
            other_errors.push_back(r ? "a stalled read answered" : r.error().message());
          finished();
        },
        asio::detached);
  }
  // Behind every stalled read: answered once the reads are cancelled and their tags flushed.
  for (int i = 0; i < stats; ++i) {
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          auto st = co_await s.stat("file");
          if (st)
            stats_answered++;
          else
            other_errors.push_back(st.error().message());
          finished();
        },
        asio::detached);
  }
  // Cancel once the server holds a full table of reads (4096 less the tags kept for Tflush):
  // polled, not slept for, since 5000 hops take seconds under a sanitizer. Bounded, so that a
  // client that sends too few fails the count below instead of hanging.
  auto treads = [&] {
    auto log = srv.log();
    return std::count_if(log.begin(), log.end(),
                         [](const auto& e) { return e.type == wire::msg_type::Tread; });
  };
  std::thread canceller([&] {
    for (auto until = clock::now() + 60s; treads() < 4080 && clock::now() < until;)
      std::this_thread::sleep_for(10ms);
    stop_reads.request_stop();
  });
  io.run();
  canceller.join();
  EXPECT_EQ(reads_cancelled, reads);
  EXPECT_EQ(stats_answered, stats);
  EXPECT_TRUE(other_errors.empty())
      << other_errors.size()
      << " calls failed; the first: " << (other_errors.empty() ? "" : other_errors.front());
  auto log = srv.log();
  auto count = [&](wire::msg_type t) {
    return std::count_if(log.begin(), log.end(), [t](const auto& e) { return e.type == t; });
  };
  EXPECT_EQ(count(wire::msg_type::Tread), 4080);  // the table was full, and no more went out
  EXPECT_EQ(count(wire::msg_type::Tflush), count(wire::msg_type::Tread));  // each sent read
  EXPECT_TRUE((*c)->stat("file"));
}

TEST(Session, LostConnectionFailsEveryPendingCall) {
  stalling_server srv;
  auto c = client::connect(srv.address(), dotl());
  ASSERT_TRUE(c);
  auto f = (*c)->open("file", wire::dotl::rdonly);
  ASSERT_TRUE(f);
  std::vector<std::thread> readers;
  std::atomic<int> failed{0};
  for (int i = 0; i < 8; ++i) {
    readers.emplace_back([&] {
      std::vector<std::byte> buf(100);
      auto r = (*c)->read(*f, 0, buf);  // no deadline: only the disconnect can end it
      if (!r) failed++;
    });
  }
  std::this_thread::sleep_for(200ms);
  srv.disconnect();
  for (auto& t : readers) t.join();
  EXPECT_EQ(failed.load(), 8);
  auto again = (*c)->stat("file");
  ASSERT_FALSE(again);
  f->release();  // the connection is gone: nothing to clunk
}

}  // namespace
}  // namespace ninep::client
