// SPDX-License-Identifier: MIT
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string_view>

/// \file
/// Subcommands of the `ninep` tool. Each lives in its own file and registers itself:
///
///   static const bool registered = ninep::tools::register_command(
///       "decode", "Decode 9P frames from a capture", [](CLI::App& app) { ... return run; });
///
/// The setup function adds the subcommand's options to `app` and returns the function that runs
/// it after parsing; that function returns the process exit status.

namespace ninep::tools {

using run_fn = std::function<int()>;
using setup_fn = std::function<run_fn(CLI::App&)>;

/// Registers a subcommand; call from a namespace-scope initializer. Returns true.
bool register_command(std::string_view name, std::string_view description, setup_fn setup);

}  // namespace ninep::tools
