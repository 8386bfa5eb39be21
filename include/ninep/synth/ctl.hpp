// SPDX-License-Identifier: MIT
#pragma once

#include <functional>
#include <memory>
#include <ninep/server/server.hpp>
#include <ninep/synth/node.hpp>

/// \file
/// The server's control tree, as diod serves it under aname "ctl".

namespace ninep::synth {

/// A directory with:
///  - `null`: reads end of file, writes are accepted and discarded;
///  - `zero`: reads return zero bytes, writes are discarded (diod's load generator diodload
///    attaches aname "ctl" and uses these two);
///  - `connections`, `requests`, `bytes_in`, `bytes_out`, `fids`: the live value of that
///    field of `stats`, one decimal number and a newline;
///  - `loglevel`: reads the current level name; writing "error", "warn", "info", "debug" or
///    "trace" calls `set_level` (anything else: EINVAL).
/// `stats` must outlive the tree (it is the server's: file_server::stats()). `initial` is the
/// level the server started with.
std::shared_ptr<dir> make_ctl_tree(const server::counters& stats,
                                   std::function<void(server::log_level)> set_level,
                                   server::log_level initial = server::log_level::info);

}  // namespace ninep::synth
