// SPDX-License-Identifier: MIT
#include "identity.hpp"

#include <fmt/format.h>
#include <munge.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <ninep/core/error.hpp>

namespace ninep::server::detail {
namespace {

struct munge_ctx_deleter {
  void operator()(munge_ctx_t c) const noexcept { munge_ctx_destroy(c); }
};

/// The uid of MUNGE credential `cred`, checked by munged at `socket` (empty: the default).
/// A credential decodes once: munged refuses a replay.
result<std::uint32_t> munge_uid(const std::string& cred, const std::string& socket,
                                std::string& why) {
  if (cred.empty() || cred.find('\0') != std::string::npos) {
    why = "no MUNGE credential was written to the afid";
    return fail(errno_code(EPERM));
  }
  std::unique_ptr<std::remove_pointer_t<munge_ctx_t>, munge_ctx_deleter> ctx(munge_ctx_create());
  if (!ctx) return fail(errno_code(ENOMEM));
  if (!socket.empty() &&
      munge_ctx_set(ctx.get(), MUNGE_OPT_SOCKET, socket.c_str()) != EMUNGE_SUCCESS) {
    why = fmt::format("munge socket {}: {}", socket, munge_ctx_strerror(ctx.get()));
    return fail(errno_code(EPERM));
  }
  uid_t uid = 0;
  gid_t gid = 0;
  munge_err_t e = munge_decode(cred.c_str(), ctx.get(), nullptr, nullptr, &uid, &gid);
  if (e != EMUNGE_SUCCESS) {
    why = fmt::format("MUNGE credential refused: {}", munge_strerror(e));
    return fail(errno_code(EPERM));
  }
  return static_cast<std::uint32_t>(uid);
}

/// The user an attach names: n_uname when given, else uname.
result<user> named(user_db& db, const attach_request& a, std::string& why) {
  auto u = a.n_uname != wire::no_id ? db.by_uid(a.n_uname) : db.by_name(a.uname);
  if (!u) why = fmt::format("attach names unknown user \"{}\"", a.uname);
  return u;
}

bool names_someone(const attach_request& a) { return a.n_uname != wire::no_id || !a.uname.empty(); }

}  // namespace

std::optional<peer_cred> read_peer_cred(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0 || ss.ss_family != AF_UNIX)
    return std::nullopt;
  ucred uc{};
  socklen_t ul = sizeof uc;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &ul) != 0 || ul != sizeof uc)
    return std::nullopt;
  peer_cred p{uc.uid, uc.gid, {}};
  // SO_PEERGROUPS (Linux 4.13): the groups the peer had when it connected.
  std::vector<gid_t> g(64);
  for (int i = 0; i < 4; ++i) {
    socklen_t gl = static_cast<socklen_t>(g.size() * sizeof(gid_t));
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g.data(), &gl) == 0) {
      g.resize(gl / sizeof(gid_t));
      p.groups.assign(g.begin(), g.end());
      break;
    }
    if (errno != ERANGE) break;
    g.resize(gl / sizeof(gid_t) + 1);
  }
  return p;
}

result<attach_decision> decide_identity(const identity_options& o, user_db& db, const user& self,
                                        const attach_request& a, std::string& why) {
  attach_decision d;
  auto allowed = [&](user u) -> result<attach_decision> {
    if (!o.act_as_others && u.uid != self.uid) {
      why = fmt::format("cannot act as uid {}: the server cannot switch identities (not root)",
                        u.uid);
      return fail(errno_code(EPERM));
    }
    d.who = std::move(u);
    return std::move(d);
  };
  // 1. A local peer that is neither root nor us is itself, whatever it names.
  if (a.peer != nullptr && a.peer->uid != 0 && a.peer->uid != self.uid) {
    user u;
    u.uid = a.peer->uid;
    u.gid = a.peer->gid;
    u.groups = a.peer->groups;
    auto known = db.by_uid(a.peer->uid);
    u.name = known ? known->name : std::to_string(a.peer->uid);
    return allowed(std::move(u));
  }
  // 2. A TLS client certificate: only the users granted to its subject.
  if (a.tls_subject != nullptr) {
    auto granted = o.tls_users.users(*a.tls_subject);
    if (granted.empty()) {
      why = fmt::format("certificate \"{}\" is granted no user (--tls-users)", *a.tls_subject);
      return fail(errno_code(EACCES));
    }
    const std::string& want = granted.front();
    if (names_someone(a)) {
      auto n = named(db, a, why);
      if (!n) return fail(n.error());
      if (std::find(granted.begin(), granted.end(), n->name) == granted.end()) {
        why = fmt::format("certificate \"{}\" is not granted user \"{}\" (--tls-users)",
                          *a.tls_subject, n->name);
        return fail(errno_code(EPERM));
      }
      return allowed(std::move(*n));
    }
    auto u = db.by_name(want);
    if (!u) {
      why = fmt::format("user \"{}\" of --tls-users not found", want);
      return fail(u.error());
    }
    return allowed(std::move(*u));
  }
  // 3. A MUNGE credential written to the afid.
  if (a.credential != nullptr) {
    auto uid = munge_uid(*a.credential, o.munge_socket, why);
    if (!uid) return fail(uid.error());
    d.proven = *uid;
    if (*uid == 0 && names_someone(a)) {
      auto u = named(db, a, why);
      if (!u) return fail(u.error());
      return allowed(std::move(*u));
    }
    auto u = db.by_uid(*uid);
    if (!u) return fail(u.error());
    if (names_someone(a)) {
      auto n = named(db, a, why);
      if (!n || n->uid != *uid) {
        why = fmt::format("MUNGE credential of uid {} does not authenticate \"{}\" (n_uname {})",
                          *uid, a.uname, a.n_uname);
        return fail(errno_code(EPERM));
      }
    }
    return allowed(std::move(*u));
  }
  // 4. A connection that proved a uid before (diod's mount helper authenticates, then hands
  //    the socket to the kernel, which sends Tversion and attaches without an afid).
  if (a.proven) {
    if (*a.proven == 0 && names_someone(a)) {
      auto u = named(db, a, why);
      if (!u) return fail(u.error());
      return allowed(std::move(*u));
    }
    if (names_someone(a)) {
      auto n = named(db, a, why);
      if (!n || n->uid != *a.proven) {
        why = fmt::format("connection authenticated as uid {}; attach names \"{}\" (n_uname {})",
                          *a.proven, a.uname, a.n_uname);
        return fail(errno_code(EPERM));
      }
    }
    auto u = db.by_uid(*a.proven);
    if (!u) return fail(u.error());
    return allowed(std::move(*u));
  }
  // 5. Peers trusted to name their user: root or ourselves on a unix socket, or everyone
  //    with trust_uname.
  if (a.peer != nullptr || o.trust_uname) {
    auto u = named(db, a, why);
    if (!u) return fail(u.error());
    return allowed(std::move(*u));
  }
  // 6. The anonymous user.
  if (o.allow_anonymous) {
    if (o.anonymous_user.empty()) return allowed(self);
    auto u = db.by_name(o.anonymous_user);
    if (!u) {
      why = fmt::format("anonymous user \"{}\" not found", o.anonymous_user);
      return fail(u.error());
    }
    return allowed(std::move(*u));
  }
  why = o.munge ? "authentication required: attach with a MUNGE-authenticated afid"
                : "authentication required (the server has no --no-auth or --trust-uname)";
  return fail(errno_code(EACCES));
}

}  // namespace ninep::server::detail
