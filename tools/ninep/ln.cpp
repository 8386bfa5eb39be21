// SPDX-License-Identifier: MIT
// ninep ln: make links on a 9P server.
#include <memory>

#include "client_common.hpp"
#include "command.hpp"

namespace ninep::tools {
namespace {

struct ln_args {
  client_args c;
  std::string target, link;
  bool symbolic = false;
};

int run(const ln_args& a) {
  auto c = connect("ln", a.c);
  if (!c) return 1;
  auto r = a.symbolic ? c->symlink(a.target, a.link, call_opts(a.c))
                      : c->link(a.target, a.link, call_opts(a.c));
  if (!r) return report("ln", display_path(a.link), r.error());
  return 0;
}

const bool registered = register_command(
    "ln", "Make a hard or symbolic link on a 9P server", [](CLI::App& app) -> run_fn {
      auto a = std::make_shared<ln_args>();
      add_client_options(app, a->c);
      app.add_option("TARGET", a->target,
                     "Existing file (hard link), or the text of a symbolic link")
          ->required();
      app.add_option("LINK", a->link, "The link to make")->required();
      app.add_flag("-s,--symbolic", a->symbolic, "Make a symbolic link");
      app.footer(
          "Needs 9P2000.L or 9P2000.u.\n"
          "Example:\n  ninep ln -s tcp!localhost!564 ../lib/libfoo.so.1 /srv/lib/libfoo.so\n");
      return [a] { return run(*a); };
    });

}  // namespace
}  // namespace ninep::tools
