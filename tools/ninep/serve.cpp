// SPDX-License-Identifier: MIT
// `ninep serve`: exports directories over 9P2000.L, 9P2000.u and 9P2000.
#include <fmt/core.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <ninep/core/error.hpp>
#include <ninep/fs/local.hpp>
#include <ninep/server/cert_map.hpp>
#include <ninep/server/router.hpp>
#include <ninep/server/server.hpp>
#include <ninep/server/users.hpp>
#include <ninep/synth/ctl.hpp>
#include <ninep/synth/tree_fs.hpp>
#include <ninep/transport/address.hpp>
#include <ninep/transport/tls.hpp>
#include <thread>

#include "command.hpp"

namespace ninep::tools {
namespace {

struct serve_options {
  std::vector<std::string> listen;
  std::vector<std::string> exports;
  std::string dir;
  bool stdio = false;
  bool read_only = false;
  bool multiuser = false;
  bool allow_devices = false;
  bool no_auth = false;
  bool trust_uname = false;
  std::string auth;
  std::string anonymous_user;
  std::string socket_mode;
  transport::tls_config tls;
  std::string tls_users;
  bool debug = false;
  std::string log_level = "info";
  server::options srv;
  unsigned frame_timeout_ms = 30000;
  unsigned handshake_timeout_ms = 10000;
  unsigned poll_us = 50;
};

// Copies bytes from `in` to `out` until end of file or error; then shuts `out` for writing.
void pump(int in, int out, bool out_is_socket) {
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(in, buf, sizeof buf);
    if (n <= 0) break;
    for (ssize_t off = 0; off < n;) {
      ssize_t w = ::write(out, buf + off, static_cast<std::size_t>(n - off));
      if (w <= 0) return;
      off += w;
    }
  }
  if (out_is_socket) ::shutdown(out, SHUT_WR);
}

// Checks the authentication options and sets o.srv.identity from them. Returns what is wrong,
// or "" when they make sense.
std::string identity_setup(serve_options& o) {
  auto& id = o.srv.identity;
  id.trust_uname = o.trust_uname;
  id.munge = o.auth == "munge";
  id.allow_anonymous = o.no_auth;
  id.act_as_others = ::geteuid() == 0;
  id.anonymous_user = o.anonymous_user;
  if (id.anonymous_user.empty() && ::geteuid() == 0) id.anonymous_user = "nobody";
  if (o.no_auth && o.trust_uname)
    return "--no-auth serves everyone as the anonymous user; --trust-uname serves them as "
           "they name: choose one";
  if (!o.anonymous_user.empty() && !o.no_auth)
    return "--anonymous-user is the user of --no-auth attaches: give --no-auth too";
  if (!id.anonymous_user.empty()) {
    server::user_db db;
    auto u = db.by_name(id.anonymous_user);
    if (!u) return fmt::format("--anonymous-user {}: no such user", id.anonymous_user);
    if (u->uid != ::geteuid() && !id.act_as_others)
      return fmt::format("--anonymous-user {}: the server can act as another user only as root",
                         id.anonymous_user);
  }
  if (!o.tls.cert_file.empty() || !o.tls.ca_file.empty() || !o.tls_users.empty()) {
    if (o.tls.cert_file.empty() || o.tls.ca_file.empty() || o.tls_users.empty())
      return "TLS needs --tls-cert, --tls-client-ca and --tls-users together (and --tls-key "
             "unless the key is in the certificate file)";
    auto map = server::cert_map::load(o.tls_users);
    if (!map) return "--tls-users " + map.error();
    id.tls_users = std::move(*map);
    auto relay = transport::tls_relay::make(o.tls, true);
    if (!relay) return "TLS: " + relay.error();
    o.srv.tls = std::move(*relay);
  }
  if (o.multiuser && !id.munge && !id.trust_uname && !o.srv.tls) {
    for (const auto& l : o.listen) {
      auto a = transport::parse_address(l, "5640");
      if (a && a->type == transport::address::kind::tcp)
        return fmt::format(
            "--multiuser: listener {} has no way to tell users apart: give --auth munge or "
            "TLS (--tls-cert), or --trust-uname on a listener no one else can reach, or "
            "listen on a unix socket",
            l);
    }
    if (o.listen.empty() && !o.stdio)
      return "--multiuser: the default tcp listener has no way to tell users apart: give "
             "--auth munge, or listen on a unix socket";
  }
  if (o.trust_uname)
    fmt::print(stderr,
               "ninep serve: warning: --trust-uname: every attach acts as the user it names, "
               "unchecked; anyone who can reach the listener can act as any user, root "
               "included\n");
  return "";
}

// Listens on `a`; a unix socket is made with mode --socket-mode (default 0600, or 0666 with
// --multiuser), never wider for a moment: the umask covers the bind.
result<void> listen_on(server::file_server& srv, const transport::address& a,
                       const serve_options& o) {
  if (a.type != transport::address::kind::unix_socket) return srv.listen(a);
  mode_t mode = o.multiuser ? 0666 : 0600;
  if (!o.socket_mode.empty()) mode = static_cast<mode_t>(std::stoul(o.socket_mode, nullptr, 8));
  const mode_t old = ::umask(0777);
  auto ok = srv.listen(a);
  ::umask(old);
  if (!ok) return ok;
  if (::chmod(a.path.c_str(), mode) != 0) return fail(errno_code(errno));
  return {};
}

// Every walked file and open fid costs a descriptor: take all the kernel allows (the soft limit
// is often 1024, the hard one far more), so that the limit is not reached by accident.
void raise_descriptor_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max) return;
  const rlim_t was = rl.rlim_cur;
  rl.rlim_cur = rl.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &rl) != 0)
    fmt::print(stderr,
               "ninep serve: warning: cannot raise the descriptor limit from {} to {}: {}\n", was,
               rl.rlim_max, std::strerror(errno));
}

int run_serve(serve_options& o) {
  raise_descriptor_limit();
  fs::local_config cfg;
  cfg.default_dir = o.dir;
  cfg.read_only = o.read_only;
  cfg.multiuser = o.multiuser;
  cfg.allow_devices = o.allow_devices;
  for (const auto& e : o.exports) {
    auto eq = e.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == e.size()) {
      fmt::print(stderr, "ninep serve: --export {}: expected NAME=DIR\n", e);
      return 2;
    }
    cfg.exports.push_back({e.substr(0, eq), e.substr(eq + 1)});
  }
  if (cfg.default_dir.empty() && cfg.exports.empty()) {
    fmt::print(stderr, "ninep serve: nothing to export: give DIR or --export NAME=DIR\n");
    return 2;
  }
  if (o.multiuser && ::geteuid() != 0) {
    fmt::print(stderr, "ninep serve: --multiuser needs the server to run as root\n");
    return 2;
  }
  if (auto bad = identity_setup(o); !bad.empty()) {
    fmt::print(stderr, "ninep serve: {}\n", bad);
    return 2;
  }
  // A root server acts as each attach's identity (never as root unless root proved itself);
  // any other server can only act as itself, and refuses attaches that are someone else.
  cfg.multiuser = ::geteuid() == 0;
  auto fs = fs::local_fs::make(cfg);
  if (!fs) {
    fmt::print(stderr, "ninep serve: {}\n", fs.error().message());
    return 1;
  }
  o.srv.level = o.debug ? server::log_level::trace : *server::log_level_of(o.log_level);
  o.srv.frame_timeout = std::chrono::milliseconds(o.frame_timeout_ms);
  o.srv.handshake_timeout = std::chrono::milliseconds(o.handshake_timeout_ms);
  o.srv.poll_window = std::chrono::microseconds(o.poll_us);

  server::block_stop_signals();  // before the server starts its threads

  // aname "ctl" is the server's own control tree (counters, log level, and diod's null and
  // zero files, so diodload runs unchanged); every other aname goes to the exports.
  auto routes =
      std::make_shared<server::router>(std::shared_ptr<server::filesystem>(std::move(*fs)));
  server::file_server srv(routes, o.srv);
  routes->add("ctl",
              synth::tree_fs::make(synth::make_ctl_tree(
                  srv.stats(), [&srv](server::log_level l) { srv.set_level(l); }, o.srv.level)));
  std::vector<std::thread> helpers;
  if (o.stdio) {
    // One connection on stdin/stdout (inetd, socat, ssh): bridge them to a socket pair.
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
      fmt::print(stderr, "ninep serve: socketpair: {}\n", std::strerror(errno));
      return 1;
    }
    srv.adopt(sv[0]);
    helpers.emplace_back([fd = sv[1]] { pump(0, fd, true); });
    helpers.emplace_back([fd = sv[1], &srv] {
      pump(fd, 1, false);
      srv.stop();  // the connection is over: so is a --stdio server
    });
  } else {
    if (o.listen.empty()) o.listen.push_back("tcp!127.0.0.1!5640");
    for (const auto& l : o.listen) {
      auto a = transport::parse_address(l, "5640");
      if (!a) {
        fmt::print(stderr,
                   "ninep serve: --listen {}: not a dial string (tcp!host!port, "
                   "unix!/path or host:port)\n",
                   l);
        return 2;
      }
      if (auto ok = listen_on(srv, *a, o); !ok) {
        fmt::print(stderr, "ninep serve: listen {}: {}\n", l, ok.error().message());
        return 1;
      }
    }
    for (std::size_t i = 0; i < o.listen.size(); ++i) {
      auto a = srv.local_address(i);
      std::string what = o.dir.empty() ? "exports" : o.dir;
      fmt::print(stderr, "ninep: serving {} on {}\n", what, transport::to_string(a));
      if (a.type == transport::address::kind::tcp)
        fmt::print(stderr,
                   "  mount: mount -t 9p -o trans=tcp,port={},version=9p2000.L,msize={} {} /mnt\n",
                   a.port, o.srv.max_msize, a.host);
      else
        fmt::print(stderr, "  mount: mount -t 9p -o trans=unix,version=9p2000.L,msize={} {} /mnt\n",
                   o.srv.max_msize, a.path);
    }
  }
  server::run_until_signal(srv);
  for (auto& t : helpers) t.detach();
  return 0;
}

const bool registered = register_command(
    "serve", "Export directories over 9P (9P2000.L, 9P2000.u, 9P2000)", [](CLI::App& app) {
      auto o = std::make_shared<serve_options>();
      app.footer(
          "Serves DIR (and any --export) to 9P clients. Listens on tcp!127.0.0.1!5640 unless "
          "--listen says otherwise; listening beyond loopback needs an explicit address.\n"
          "Example: ninep serve --listen tcp!127.0.0.1!5640 /srv/share\n"
          "Then, in a Linux guest or host: mount -t 9p -o trans=tcp,port=5640,version=9p2000.L "
          "127.0.0.1 /mnt\n"
          "aname \"ctl\" attaches the server's control tree (counters, loglevel, null, zero).\n"
          "Who attaches act as (see ninep-serve(1), SECURITY): a unix-socket peer that is not "
          "root acts as itself; over tcp an attach must authenticate (--auth munge), or "
          "--no-auth serves it as the anonymous user, or --trust-uname as the user it names.");
      app.add_option("DIR", o->dir, "Directory exported to attaches with an empty aname");
      app.add_option("-l,--listen", o->listen,
                     "Address to listen on, repeatable: tcp!HOST!PORT, HOST:PORT, [V6]:PORT, "
                     "unix!/PATH")
          ->allow_extra_args(false);
      app.add_flag("--stdio", o->stdio, "Serve one connection on stdin/stdout (inetd, socat, ssh)");
      app.add_option("-e,--export", o->exports,
                     "NAME=DIR: also export DIR to attaches with aname NAME (or aname DIR)")
          ->allow_extra_args(false);
      app.add_flag("-r,--read-only", o->read_only, "Refuse every change with EROFS");
      app.add_flag("--multiuser", o->multiuser,
                   "Serve many users, each as its proven identity: unix sockets are made 0666 "
                   "(each peer acts as itself); tcp listeners need --auth munge or "
                   "--trust-uname. Needs root");
      app.add_option("--auth", o->auth,
                     "Authentication offered in Tauth: munge (diod-compatible; needs munged)")
          ->check(CLI::IsMember({"munge"}));
      app.add_option("--munge-socket", o->srv.identity.munge_socket,
                     "munged's socket (default: libmunge's)");
      app.add_flag("--no-auth", o->no_auth,
                   "Serve attaches that prove nothing as the anonymous user (never as the name "
                   "they send) rather than refusing them");
      app.add_option("--anonymous-user", o->anonymous_user,
                     "The user of --no-auth attaches (default: nobody when run as root, else the "
                     "server's own user)");
      app.add_flag("--trust-uname", o->trust_uname,
                   "UNSAFE: serve each attach as the user it names, unchecked (diod -n); only "
                   "where nothing else can reach the listener");
      app.add_option("--socket-mode", o->socket_mode,
                     "Mode of unix socket files, octal (default 0600; 0666 with --multiuser)")
          ->check([](const std::string& v) {
            return v.find_first_not_of("01234567") == std::string::npos && !v.empty() &&
                           v.size() <= 4
                       ? std::string()
                       : std::string("expected an octal mode such as 0660");
          });
      app.add_option("--tls-cert", o->tls.cert_file,
                     "TLS 1.3 on every tcp listener: this server's certificate chain (PEM)");
      app.add_option("--tls-key", o->tls.key_file, "The private key of --tls-cert (PEM)");
      app.add_option("--tls-client-ca", o->tls.ca_file,
                     "TLS: the CA that client certificates must chain to (PEM); a client "
                     "without one is refused");
      app.add_option("--tls-users", o->tls_users,
                     "TLS: file of `USER SUBJECT` lines granting each certificate subject "
                     "(RFC 2253, e.g. CN=alice,O=Example) the users it may attach as");
      app.add_flag("--allow-devices", o->allow_devices,
                   "Let clients make character and block device nodes with Tmknod. UNSAFE with "
                   "untrusted clients: a node a root client makes for the host's disk is that "
                   "disk for host processes. Without it: EPERM. FIFOs and sockets are always "
                   "allowed; the server never opens any special file");
      app.add_option("-m,--msize", o->srv.max_msize, "Largest message size offered")
          ->capture_default_str()
          ->check(CLI::Range(4096u, 16u << 20));
      app.add_option("--max-connections", o->srv.max_connections, "Connections served at once")
          ->capture_default_str();
      app.add_option("--max-connections-per-peer", o->srv.max_connections_per_peer,
                     "Connections served at once from one peer (tcp: IP address; unix socket: "
                     "uid); 0: no limit")
          ->capture_default_str();
      app.add_option("--handshake-timeout-ms", o->handshake_timeout_ms,
                     "Time a new connection has to complete Tversion and Tattach (0: no limit); "
                     "attached connections may idle forever")
          ->capture_default_str();
      app.add_option("--max-fids", o->srv.max_fids,
                     "Fids per connection, counting those walks in flight will create")
          ->capture_default_str();
      app.add_option("--max-inflight", o->srv.max_inflight, "Requests in flight per connection")
          ->capture_default_str();
      app.add_option("--max-queued-bytes", o->srv.max_queued_bytes,
                     "Bytes of request frames held in memory by all connections together; past "
                     "it, connections with requests in flight are not read")
          ->capture_default_str();
      app.add_option("--max-xattr-bytes", o->srv.max_xattr_bytes,
                     "Bytes of xattr values held by fids of all connections together; "
                     "Txattrwalk/Txattrcreate beyond it fail with ENOMEM")
          ->capture_default_str();
      app.add_option("--frame-timeout-ms", o->frame_timeout_ms,
                     "Time a peer has to finish sending a frame it started")
          ->capture_default_str();
      app.add_option("--workers", o->srv.workers,
                     "Threads running filesystem calls (more start while every one is busy and "
                     "another connection has work)")
          ->capture_default_str();
      app.add_option("--worker-share", o->srv.worker_share,
                     "Filesystem calls of one connection running at once (0: --workers)")
          ->capture_default_str();
      app.add_option("--network-threads", o->srv.network_threads, "Threads running network loops")
          ->capture_default_str();
      app.add_option("--poll-us", o->poll_us,
                     "Busy-poll an idle connection this long before sleeping (0: never)")
          ->capture_default_str()
          ->check(CLI::Range(0u, 10000u));
      app.add_option("--log-level", o->log_level, "error, warn, info, debug or trace")
          ->capture_default_str()
          ->check(CLI::IsMember([] {
            std::vector<std::string> names;
            for (int l = 0; l <= static_cast<int>(server::log_level::trace); ++l)
              names.emplace_back(server::log_level_name(static_cast<server::log_level>(l)));
            return names;
          }()));
      app.add_flag("-d,--debug", o->debug, "Print every message both ways (log level trace)");
      return [o] { return run_serve(*o); };
    });

}  // namespace
}  // namespace ninep::tools
