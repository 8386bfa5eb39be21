// SPDX-License-Identifier: MIT
// Private: who an attach acts as (identity_options), peer credentials and MUNGE.
#pragma once

#include <cstdint>
#include <ninep/core/result.hpp>
#include <ninep/server/server.hpp>
#include <ninep/server/users.hpp>
#include <ninep/wire/types.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ninep::server::detail {

/// What the kernel says about a unix-socket peer (SO_PEERCRED, SO_PEERGROUPS).
struct peer_cred {
  std::uint32_t uid = 0, gid = 0;
  std::vector<std::uint32_t> groups;
};

/// The peer credentials of socket `fd`; std::nullopt unless it is a unix socket that has them.
std::optional<peer_cred> read_peer_cred(int fd);

/// What the server knows of a connection's peer from before its first byte of 9P.
struct peer_info {
  std::string name;  ///< for log lines ("127.0.0.1!40312", "unix (uid 1000)")
  /// The connection slot taken with shared::take_peer_slot(); empty: none.
  std::string slot_key;
  std::optional<peer_cred> cred;           ///< a unix-socket peer, from the kernel
  std::optional<std::string> tls_subject;  ///< a TLS peer's verified certificate subject
};

/// One Tattach, with what the connection knows.
struct attach_request {
  std::string_view uname;
  std::uint32_t n_uname = wire::no_id;  ///< none (or 9P2000)
  const peer_cred* peer = nullptr;      ///< the unix-socket peer, if any
  /// The uid this connection proved before (MUNGE), kept across Tversion.
  std::optional<std::uint32_t> proven;
  const std::string* credential = nullptr;  ///< what was written to the afid, if one was given
  /// The verified client certificate subject of a TLS connection.
  const std::string* tls_subject = nullptr;
};

/// The identity an attach acts as.
struct attach_decision {
  user who;
  /// Set when this attach proved a uid: the connection remembers it.
  std::optional<std::uint32_t> proven;
};

/// Decides who `a` acts as, in the order identity_options documents. On refusal, `why` says
/// why for the log. Errors: EACCES (no identity proven), EPERM (the identity is not allowed,
/// a credential does not decode or names someone else, an unknown user). Runs lookups and
/// talks to munged: call it on a worker thread.
result<attach_decision> decide_identity(const identity_options& o, user_db& db, const user& self,
                                        const attach_request& a, std::string& why);

}  // namespace ninep::server::detail
