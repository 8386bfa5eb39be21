// SPDX-License-Identifier: MIT
#pragma once

#include <functional>
#include <memory>
#include <ninep/server/server.hpp>
#include <string_view>

/// \file
/// The main() of a small synthetic file server, so an example is only its tree.

namespace ninep::synth {

/// Parses `--listen ADDR` (repeatable; dial strings, default `default_listen`),
/// `--log-level LEVEL` and `--workers N`, serves `fs` with a server::file_server until
/// SIGINT/SIGTERM, and returns the exit status (2 for bad arguments). `ready`, if given, runs
/// after the server is built and listening, before it serves (e.g. to add a ctl tree that
/// needs file_server::stats()). Prints the mount command for each listener to stderr.
int serve_main(int argc, char** argv, std::shared_ptr<server::filesystem> fs,
               std::string_view default_listen,
               const std::function<void(server::file_server&)>& ready = {});

}  // namespace ninep::synth
