// SPDX-License-Identifier: MIT
// The `ninep` command: one binary, one subcommand per file (see command.hpp).
#include <fmt/core.h>

#include <map>
#include <string>

#include "command.hpp"

namespace ninep::tools {
namespace {

struct entry {
  std::string description;
  setup_fn setup;
};

// Filled by static initializers before main() runs and read-only afterwards.
std::map<std::string, entry, std::less<>>& commands() {
  static std::map<std::string, entry, std::less<>> m;
  return m;
}

}  // namespace

bool register_command(std::string_view name, std::string_view description, setup_fn setup) {
  commands().emplace(std::string(name), entry{std::string(description), std::move(setup)});
  return true;
}

}  // namespace ninep::tools

int main(int argc, char** argv) {
  using namespace ninep::tools;
  CLI::App app{"ninep: a 9P2000, 9P2000.u and 9P2000.L toolkit", "ninep"};
  app.require_subcommand(1);
  app.set_version_flag("-V,--ninep-version", "ninep 0.1.0");
  app.footer(
      "Addresses are Plan 9 dial strings (tcp!host!port, unix!/path) or host:port.\n"
      "Run `ninep COMMAND --help` for the options of a command.");
  std::map<std::string, run_fn> runs;
  for (auto& [name, e] : commands()) {
    CLI::App* sub = app.add_subcommand(name, e.description);
    runs[name] = e.setup(*sub);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    for (auto& [name, run] : runs)
      if (app.got_subcommand(name)) return run();
  } catch (const std::exception& e) {
    fmt::print(stderr, "ninep: {}\n", e.what());
    return 1;
  }
  return 1;
}
