// SPDX-License-Identifier: MIT
// A minimal blocking 9P client on the codec, for server tests that need to send exactly the
// bytes they mean (malformed frames, pipelined requests, flushes).
#pragma once

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <ninep/core/buffer.hpp>
#include <ninep/core/error.hpp>
#include <ninep/transport/address.hpp>
#include <ninep/wire/codec.hpp>
#include <ninep/wire/errors.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace ninep::test {

class raw_client {
 public:
  /// Connects to a tcp or unix address; throws std::runtime_error on failure.
  explicit raw_client(const transport::address& a) {
    if (a.type == transport::address::kind::unix_socket) {
      fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_un sa{};
      sa.sun_family = AF_UNIX;
      std::strncpy(sa.sun_path, a.path.c_str(), sizeof sa.sun_path - 1);
      if (::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0)
        throw std::runtime_error("connect " + a.path + ": " + std::strerror(errno));
      return;
    }
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<std::uint16_t>(std::stoi(a.port)));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0)
      throw std::runtime_error(std::string("connect: ") + std::strerror(errno));
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    timeval tv{10, 0};  // a test must never hang on a missing reply
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~raw_client() {
    if (fd_ >= 0) ::close(fd_);
  }
  raw_client(const raw_client&) = delete;
  raw_client& operator=(const raw_client&) = delete;

  wire::dialect dialect = wire::dialect::v2000L;
  std::uint32_t msize = 1u << 20;

  /// Sends raw bytes.
  void send_bytes(std::span<const std::byte> b) {
    for (std::size_t off = 0; off < b.size();) {
      ssize_t n = ::send(fd_, b.data() + off, b.size() - off, MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("send failed");
      off += static_cast<std::size_t>(n);
    }
  }
  /// Encodes and sends a message.
  void send(wire::tag_t tag, const wire::message_body& body) {
    wire::message m{tag, body};
    std::vector<std::byte> out(wire::encoded_size(m, dialect));
    auto n = wire::encode(m, dialect, out);
    if (!n) throw std::runtime_error("encode: " + n.error().message());
    send_bytes(out);
  }
  /// Receives one frame; returns false at end of stream (or timeout).
  bool recv_frame(std::vector<std::byte>& frame) {
    frame.resize(4);
    if (!recv_exact(frame.data(), 4)) return false;
    std::uint32_t size = 0;
    std::memcpy(&size, frame.data(), 4);  // little-endian host in tests
    if (size < 7 || size > (64u << 20)) throw std::runtime_error("bad reply size");
    frame.resize(size);
    return recv_exact(frame.data() + 4, size - 4);
  }
  /// Receives and decodes one reply; the message borrows from `last_frame`.
  wire::message recv() {
    if (!recv_frame(last_frame)) throw std::runtime_error("connection closed");
    auto m = wire::decode(last_frame, dialect);
    if (!m) throw std::runtime_error("decode reply: " + m.error().message());
    return *m;
  }
  /// Sends and waits for the reply with the same tag.
  wire::message rpc(const wire::message_body& body, wire::tag_t tag = 1) {
    send(tag, body);
    auto m = recv();
    if (m.tag != tag) throw std::runtime_error("reply with another tag");
    return m;
  }
  /// True when the server closed the connection (reads end of stream, or a reset: bytes sent
  /// after the close make the peer's kernel answer with one).
  bool closed_by_peer() {
    std::byte b;
    ssize_t n = ::recv(fd_, &b, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }
  /// Negotiates `d` and attaches fid 0 (aname, uname) — the usual prologue.
  wire::message handshake(wire::dialect d, std::string_view aname = "",
                          std::string_view uname = "root", std::uint32_t n_uname = 0) {
    dialect = d;
    auto v = rpc(wire::Tversion{msize, wire::version_string(d)}, wire::notag);
    msize = std::get<wire::Rversion>(v.body).msize;
    return rpc(wire::Tattach{0, wire::nofid, uname, aname, n_uname});
  }
  /// The errno of an Rlerror/Rerror reply, 0 otherwise.
  static int error_of(const wire::message& m) { return wire::error_of(m.body).value(); }

  std::vector<std::byte> last_frame;

 private:
  bool recv_exact(std::byte* p, std::size_t n) {
    while (n) {
      ssize_t r = ::recv(fd_, p, n, 0);
      if (r <= 0) return false;
      p += r;
      n -= static_cast<std::size_t>(r);
    }
    return true;
  }
  int fd_ = -1;
};

}  // namespace ninep::test
