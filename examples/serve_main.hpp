// SPDX-License-Identifier: MIT
// The command line of the example servers: the part every example shares (--listen,
// --log-level, --workers), so that an example is its tree and its own options.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <ninep/server/server.hpp>
#include <string>
#include <vector>

namespace ninep::examples {

/// What the shared options set.
struct serve_args {
  std::vector<std::string> listen;  ///< dial strings; empty: the example's default
  server::options opts;
};

/// Adds `-l,--listen ADDR` (repeatable), `--log-level LEVEL` and `--workers N` to `app`.
void add_serve_options(CLI::App& app, serve_args& a, const std::string& default_listen);

/// Serves `fs` on every address in `a.listen` (or `default_listen`) until SIGINT/SIGTERM and
/// returns the exit status. `ready`, if given, runs once the server listens, before it serves
/// (e.g. to add a ctl tree that needs file_server::stats()). Prints, for each listener, where
/// it serves and the mount command, to stderr. Errors name the address and the reason.
int serve(const std::string& prog, serve_args a, std::shared_ptr<server::filesystem> fs,
          const std::string& default_listen,
          const std::function<void(server::file_server&)>& ready = {});

}  // namespace ninep::examples
