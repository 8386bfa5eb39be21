// SPDX-License-Identifier: MIT
#include "client_common.hpp"

#include <fmt/core.h>
#include <unistd.h>

#include <cstdlib>
#include <ninep/core/error.hpp>
#include <ninep/wire/errors.hpp>

namespace ninep::tools {
namespace {

bool wants_tls(const client_args& a) {
  const auto& t = a.tls_config;
  return a.tls || !t.cert_file.empty() || !t.key_file.empty() || !t.ca_file.empty();
}

}  // namespace

void add_client_options(CLI::App& app, client_args& a) {
  app.add_option("ADDR", a.address, "Server: tcp!host!port, unix!/path or host:port")->required();
  app.add_option("--version,--dialect", a.dialect,
                 "Protocol: 9P2000.L, 9P2000.u, 9P2000 or auto (try .L, then .u, then 9P2000)")
      ->check(CLI::IsMember({"auto", "9P2000.L", "9P2000.u", "9P2000", "L", "u"}))
      ->capture_default_str();
  app.add_option("--msize", a.msize, "Largest message to offer (the server may lower it)")
      ->check(CLI::Range(4096u, 16u * 1024 * 1024))
      ->capture_default_str();
  app.add_option("--uname", a.uname,
                 "User name to attach as (default: $USER; over TLS, the first user the server "
                 "grants the certificate)");
  app.add_option("--auth", a.auth,
                 "Authenticate before attaching: munge (diod's protocol; needs munged)")
      ->check(CLI::IsMember({"munge"}));
  app.add_option("--munge-socket", a.munge_socket, "munged's socket (default: libmunge's)");
  app.add_option("--aname", a.aname, "Tree to attach (server-specific, e.g. diod's export path)");
  app.add_option("--timeout", a.timeout,
                 "Seconds allowed per operation, connecting included (0: no limit)")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--tls", a.tls,
               "TLS 1.3 to a server started with --tls-cert (implied by the options below)");
  app.add_option("--tls-cert", a.tls_config.cert_file, "TLS: this client's certificate (PEM)");
  app.add_option("--tls-key", a.tls_config.key_file,
                 "TLS: the private key of --tls-cert (PEM; default: in the certificate file)");
  app.add_option("--tls-ca", a.tls_config.ca_file,
                 "TLS: the CA that the server's certificate must chain to (PEM; default: the "
                 "system's)");
}

client::options session_options(const client_args& a) {
  client::options o;
  // "L" and "u" are short for "9P2000.L" and "9P2000.u"; "auto" (none) lets the server choose.
  o.dialect = wire::dialect_of(a.dialect.size() == 1 ? "9P2000." + a.dialect : a.dialect);
  o.msize = a.msize;
  o.uname = a.uname;
  if (o.uname.empty()) {
    const char* u = std::getenv("USER");
    o.uname = u != nullptr && *u != '\0' ? u : (::getuid() == 0 ? "root" : "nobody");
  }
  o.aname = a.aname;
  o.n_uname = ::getuid();
  if (wants_tls(a)) {
    // Over TLS the certificate says who we are, and this host's uid means nothing to the
    // server: name only the user asked for, and none by default (the server then picks the
    // first user the certificate is granted).
    o.uname = a.uname;
    o.n_uname = wire::no_id;
  }
  o.n_gid = ::getgid();
  o.auth = a.auth;
  o.munge_socket = a.munge_socket;
  // --timeout bounds the connection (dial, Tversion, Tattach) like any other operation.
  o.connect_timeout =
      std::chrono::ceil<std::chrono::milliseconds>(std::chrono::duration<double>(a.timeout));
  return o;
}

std::unique_ptr<client::client> connect(std::string_view cmd, const client_args& a) {
  auto o = session_options(a);
  if (wants_tls(a)) {
    auto relay = transport::tls_relay::make(a.tls_config, false);
    if (!relay) {
      fmt::print(stderr, "ninep: {} {}: TLS: {}\n", cmd, a.address, relay.error());
      return nullptr;
    }
    o.tls = std::move(*relay);
  }
  auto c = client::client::connect(a.address, std::move(o));
  if (!c) {
    report(cmd, a.address, c.error());
    // The server decides who an attach acts as: a refusal at connect is usually a server that
    // wants proof (ninep serve over tcp without --no-auth, diod without -n).
    const auto e = c.error();
    if (a.auth.empty() && (e == errno_code(EACCES) || e == errno_code(EPERM)))
      fmt::print(stderr,
                 "ninep {}: the server refused the attach; if it requires authentication, try "
                 "--auth munge\n",
                 cmd);
    // ENOENT at connect is the attach's: nothing is served under that aname.
    if (e == errno_code(ENOENT))
      fmt::print(stderr, "ninep {}: the server serves no tree under aname \"{}\"\n", cmd, a.aname);
    return nullptr;
  }
  return std::move(*c);
}

client::call_options call_opts(const client_args& a) {
  if (a.timeout <= 0) return {};
  return client::call_options::timeout(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(
          std::chrono::duration<double>(a.timeout)));
}

std::string error_text(const client::error& e) {
  if (!e.text.empty()) return e.text;
  const std::error_code& ec = e.code;
  if (ec.category() == std::generic_category() || ec.category() == std::system_category()) {
    std::string_view s = wire::error_string(ec.value());
    if (ec.value() == EIO || s != "i/o error") return std::string(s);
  }
  return ec.message();
}

int report(std::string_view cmd, std::string_view path, const client::error& e) {
  fmt::print(stderr, "ninep: {} {}: {}\n", cmd, path, error_text(e));
  return 1;
}

std::string display_path(std::string_view p) { return p.empty() ? "/" : std::string(p); }

std::string join(std::string_view dir, std::string_view name) {
  std::string out(dir);
  while (!out.empty() && out.back() == '/') out.pop_back();
  out += '/';
  out += name;
  return out;
}

std::string mode_string(std::uint32_t mode) {
  std::string s = "----------";
  switch (mode & client::mode_bits::ifmt) {
    case client::mode_bits::ifdir:
      s[0] = 'd';
      break;
    case client::mode_bits::iflnk:
      s[0] = 'l';
      break;
    case client::mode_bits::ifchr:
      s[0] = 'c';
      break;
    case client::mode_bits::ifblk:
      s[0] = 'b';
      break;
    case client::mode_bits::ififo:
      s[0] = 'p';
      break;
    case client::mode_bits::ifsock:
      s[0] = 's';
      break;
    default:
      break;
  }
  const char* rwx = "rwxrwxrwx";
  for (int i = 0; i < 9; ++i)
    if (mode & (0400u >> i)) s[1 + i] = rwx[i];
  if (mode & 04000) s[3] = (mode & 0100) ? 's' : 'S';
  if (mode & 02000) s[6] = (mode & 0010) ? 's' : 'S';
  if (mode & 01000) s[9] = (mode & 0001) ? 't' : 'T';
  return s;
}

bool stderr_is_tty() { return ::isatty(2) == 1; }

}  // namespace ninep::tools
