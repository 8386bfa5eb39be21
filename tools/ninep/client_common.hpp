// SPDX-License-Identifier: MIT
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <ninep/client/client.hpp>
#include <ninep/transport/tls.hpp>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

/// \file
/// What the client subcommands (ls, cat, get, put, ...) share: the ADDR argument, connection
/// options, path handling and error reporting in the form `ninep: CMD PATH: reason`.

namespace ninep::tools {

/// Sequential copies (cat, get) read this much first and double the read while reads come back
/// full, up to their buffer: a small file then costs two Treads, not two pipelines of them.
inline constexpr std::size_t first_read_window = 64 * 1024;

/// Connection options common to every client subcommand.
struct client_args {
  std::string address;
  std::string dialect = "auto";
  std::uint32_t msize = 512 * 1024;
  std::string uname;
  std::string auth;          ///< "" or "munge"
  std::string munge_socket;  ///< munged's socket (empty: the default)
  std::string aname;
  double timeout = 0;  ///< seconds per operation; 0: none
  bool tls = false;    ///< TLS 1.3 (implied by any tls_config file)
  transport::tls_config tls_config;
};

/// Adds ADDR (first positional) and --version/--dialect, --msize, --uname, --auth,
/// --munge-socket, --aname, --timeout, --tls, --tls-cert, --tls-key, --tls-ca.
void add_client_options(CLI::App& app, client_args& a);

/// The session options `a` asks for (dialect, msize, uname defaulting to $USER, aname, and
/// this process's uid/gid as n_uname/n_gid).
client::options session_options(const client_args& a);

/// Connects as `a` says (TLS included); on failure prints `ninep: CMD ADDR: reason` and returns
/// null.
std::unique_ptr<client::client> connect(std::string_view cmd, const client_args& a);

/// Call options from --timeout.
client::call_options call_opts(const client_args& a);

/// Human text for an error: the server's own words when it sent ones we keep
/// ("mkdir /srv/x/dir1: file exists"), else the 9P2000 string for an errno ("file does not
/// exist"), else the error's message.
std::string error_text(const client::error& e);

/// Prints `ninep: CMD PATH: reason` to stderr; returns 1 (the exit status).
int report(std::string_view cmd, std::string_view path, const client::error& e);

/// `p` as given, for messages; "/" for the root.
std::string display_path(std::string_view p);

/// `dir` joined with `name` ('/'-separated, no duplicate slashes).
std::string join(std::string_view dir, std::string_view name);

/// ls -l style "drwxr-xr-x" for a st_mode.
std::string mode_string(std::uint32_t mode);

/// Whether stderr is a terminal (progress bars are drawn only then).
bool stderr_is_tty();

}  // namespace ninep::tools
