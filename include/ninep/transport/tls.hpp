// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <ninep/core/result.hpp>
#include <string>
#include <string_view>

/// \file
/// TLS 1.3 for 9P connections (OpenSSL through Asio), as a terminating relay: the encrypted
/// socket is handled by the relay's own thread, and the 9P side gets one end of a unix
/// socketpair carrying the plaintext. The server's and client's connection code is then the
/// same for TLS as for a plain socket (their fast paths write to a socket descriptor directly),
/// at the price of one extra copy of each byte through the relay thread.
///
/// Authentication is mutual: a server always requires a client certificate that chains to its
/// client CA, and reports the certificate's subject, from which the server decides who the peer
/// may act as. A client verifies the server's certificate against its CA (or the system's) and
/// the host name it dialled.

namespace ninep::transport {

/// Files of a TLS endpoint, all PEM.
struct tls_config {
  /// This end's certificate chain. Server: required. Client: the client certificate (required by
  /// every ninep server).
  std::string cert_file;
  /// The private key of `cert_file`.
  std::string key_file;
  /// Server: the CA that client certificates must chain to (required). Client: the CA that the
  /// server's certificate must chain to; empty: the system's default trust store.
  std::string ca_file;
};

/// A peer that completed the handshake.
struct tls_peer {
  /// The plaintext end of the relay (a connected AF_UNIX stream socket, owned by the caller).
  int fd = -1;
  /// The verified certificate subject of the peer, RFC 2253 form (e.g. "CN=alice,O=Example").
  std::string subject;
};

/// A TLS context plus the thread that runs handshakes and relays bytes. Thread-safe.
class tls_relay {
 public:
  /// Loads the files of `c` for the server (`server` true) or the client role. On error the
  /// text names the file and the reason (e.g. "/etc/9p/key.pem: no such file").
  static tl::expected<std::shared_ptr<tls_relay>, std::string> make(const tls_config& c,
                                                                    bool server);
  /// Stops the relay thread (stop()).
  ~tls_relay();
  /// Ends every handshake and relay and joins the thread; no callback runs after it returns.
  /// Idempotent; must not be called from a callback.
  void stop();
  tls_relay(const tls_relay&) = delete;
  tls_relay& operator=(const tls_relay&) = delete;

  /// Server role: takes ownership of the accepted TCP socket `fd`, runs the handshake (which
  /// must finish within `deadline`) and then calls `done` once, on the relay thread, with the
  /// peer or why it was refused: an OpenSSL error (asio's ssl category, whose message() is
  /// OpenSSL's reason, e.g. "peer did not return a certificate", "certificate verify failed"),
  /// std::errc::timed_out, or a socket error.
  void accept(int fd, std::chrono::milliseconds deadline,
              std::function<void(result<tls_peer>)> done);

  /// Client role: takes ownership of the connected TCP socket `fd`, runs the handshake,
  /// verifying the server's certificate for `host` (a name or a literal address), within
  /// `deadline`. Blocks; must not be called on the relay thread. Errors: as accept()'s.
  result<tls_peer> connect(int fd, std::string_view host, std::chrono::milliseconds deadline);

 private:
  struct impl;
  explicit tls_relay(std::unique_ptr<impl> i);
  std::unique_ptr<impl> impl_;
};

}  // namespace ninep::transport
