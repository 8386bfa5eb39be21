// SPDX-License-Identifier: MIT
// A 9P man in the middle for tests: forwards whole frames between clients and a real server,
// counts the requests it sees, and on demand holds replies back (until enough requests have
// arrived, or for ever), rewrites them, or cuts every connection.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace ninep::test {

class frame_proxy {
 public:
  /// Listens on 127.0.0.1:0 and forwards each connection to 127.0.0.1:`upstream_port`.
  explicit frame_proxy(unsigned short upstream_port) : upstream_(upstream_port) {
    lfd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(lfd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(lfd_, 16) != 0)
      throw std::runtime_error("frame_proxy: cannot listen");
    socklen_t len = sizeof a;
    ::getsockname(lfd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~frame_proxy() {
    stopping_ = true;
    ::shutdown(lfd_, SHUT_RDWR);
    ::close(lfd_);
    acceptor_.join();
    drop_all();
    std::vector<std::unique_ptr<connection>> all;
    {
      std::lock_guard lk(mu_);
      all = std::move(conns_);
    }
    for (auto& c : all) {
      for (auto& t : c->pumps) t.join();
      ::close(c->client);
      ::close(c->server);
    }
  }

  std::string address() const { return "tcp!127.0.0.1!" + std::to_string(port_); }

  /// Replies are held until this many Tread/Twrite have arrived (over all connections), or
  /// 10 s have passed (then gate_timed_out is set). 0: no gate.
  std::atomic<int> gate{0};
  std::atomic<bool> gate_timed_out{false};
  /// Connections numbered below this (0, 1, ...) never get replies to Tread/Twrite/Tfsync.
  std::atomic<int> stall_below{0};
  /// Every Rwrite claims one byte more than was asked for.
  std::atomic<bool> lie_rwrite{false};

  /// Requests of message type `type` seen on connection `conn` (-1: all connections).
  int count(std::uint8_t type, int conn = -1) {
    std::lock_guard lk(mu_);
    int n = 0;
    for (std::size_t i = 0; i < conns_.size(); ++i)
      if (conn < 0 || static_cast<int>(i) == conn) n += conns_[i]->types[type];
    return n;
  }
  int connections() {
    std::lock_guard lk(mu_);
    return static_cast<int>(conns_.size());
  }
  /// Cuts every connection open now (both sides see the close).
  void drop_all() {
    std::lock_guard lk(mu_);
    for (auto& c : conns_) {
      ::shutdown(c->client, SHUT_RDWR);
      ::shutdown(c->server, SHUT_RDWR);
    }
    cv_.notify_all();
  }

 private:
  struct connection {
    int index = 0;
    int client = -1, server = -1;
    int types[256] = {};
    std::vector<std::thread> pumps;
    std::vector<std::uint32_t> write_counts;  // Twrite counts by tag, for lie_rwrite
  };

  static bool read_full(int fd, std::uint8_t* p, std::size_t n) {
    while (n > 0) {
      ssize_t r = ::read(fd, p, n);
      if (r <= 0) return false;
      p += r;
      n -= static_cast<std::size_t>(r);
    }
    return true;
  }
  static bool write_full(int fd, const std::uint8_t* p, std::size_t n) {
    while (n > 0) {
      ssize_t r = ::send(fd, p, n, MSG_NOSIGNAL);
      if (r <= 0) return false;
      p += r;
      n -= static_cast<std::size_t>(r);
    }
    return true;
  }
  static bool read_frame(int fd, std::vector<std::uint8_t>& f) {
    f.resize(4);
    if (!read_full(fd, f.data(), 4)) return false;
    std::uint32_t size = f[0] | f[1] << 8 | f[2] << 16 | static_cast<std::uint32_t>(f[3]) << 24;
    if (size < 7 || size > (16u << 20)) return false;
    f.resize(size);
    return read_full(fd, f.data() + 4, size - 4);
  }

  void accept_loop() {
    for (;;) {
      int c = ::accept(lfd_, nullptr, nullptr);
      if (c < 0) return;
      if (stopping_) {
        ::close(c);
        return;
      }
      int s = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      a.sin_port = htons(upstream_);
      if (::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(c);
        ::close(s);
        continue;
      }
      int one = 1;
      ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      std::lock_guard lk(mu_);
      auto k = std::make_unique<connection>();
      k->index = static_cast<int>(conns_.size());
      k->client = c;
      k->server = s;
      k->write_counts.resize(65536);
      connection* raw = k.get();
      k->pumps.emplace_back([this, raw] { to_server(*raw); });
      k->pumps.emplace_back([this, raw] { to_client(*raw); });
      conns_.push_back(std::move(k));
    }
  }

  void to_server(connection& c) {
    std::vector<std::uint8_t> f;
    while (read_frame(c.client, f)) {
      std::uint8_t type = f[4];
      std::uint16_t tag = static_cast<std::uint16_t>(f[5] | f[6] << 8);
      {
        std::lock_guard lk(mu_);
        c.types[type]++;
        if (type == 118 &&
            f.size() >= 23)  // Twrite: size[4] type[1] tag[2] fid[4] offset[8] count[4]
          c.write_counts[tag] =
              f[19] | f[20] << 8 | f[21] << 16 | static_cast<std::uint32_t>(f[22]) << 24;
        if (type == 116 || type == 118) io_requests_++;
      }
      cv_.notify_all();
      if (!write_full(c.server, f.data(), f.size())) break;
    }
    ::shutdown(c.server, SHUT_RDWR);
    ::shutdown(c.client, SHUT_RDWR);
  }

  void to_client(connection& c) {
    std::vector<std::uint8_t> f;
    while (read_frame(c.server, f)) {
      std::uint8_t type = f[4];
      std::uint16_t tag = static_cast<std::uint16_t>(f[5] | f[6] << 8);
      bool io_reply = type == 117 || type == 119 || type == 51;
      if (io_reply && c.index < stall_below) continue;  // swallowed: the client waits for ever
      if (int g = gate; g > 0 && io_reply) {
        std::unique_lock lk(mu_);
        if (!cv_.wait_for(lk, std::chrono::seconds(10), [&] { return io_requests_ >= g; }))
          gate_timed_out = true;
      }
      if (type == 119 && lie_rwrite && f.size() >= 11) {
        std::uint32_t n;
        {
          std::lock_guard lk(mu_);
          n = c.write_counts[tag] + 1;
        }
        for (int i = 0; i < 4; ++i) f[7 + i] = static_cast<std::uint8_t>(n >> (8 * i));
      }
      if (!write_full(c.client, f.data(), f.size())) break;
    }
    ::shutdown(c.server, SHUT_RDWR);
    ::shutdown(c.client, SHUT_RDWR);
  }

  unsigned short upstream_;
  unsigned short port_ = 0;
  int lfd_ = -1;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex mu_;
  std::condition_variable cv_;
  int io_requests_ = 0;
  std::vector<std::unique_ptr<connection>> conns_;
};

}  // namespace ninep::test
