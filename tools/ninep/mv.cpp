// SPDX-License-Identifier: MIT
// ninep mv: rename a file on a 9P server.
#include <memory>

#include "client_common.hpp"
#include "command.hpp"

namespace ninep::tools {
namespace {

struct mv_args {
  client_args c;
  std::string from, to;
};

int run(const mv_args& a) {
  auto c = connect("mv", a.c);
  if (!c) return 1;
  std::string to = a.to;
  auto st = c->stat(to, call_opts(a.c));
  if (st && st->is_dir()) {
    std::string_view f = a.from;
    while (f.size() > 1 && f.back() == '/') f.remove_suffix(1);
    auto slash = f.rfind('/');
    to = join(to, slash == std::string_view::npos ? f : f.substr(slash + 1));
  }
  auto r = c->rename(a.from, to, call_opts(a.c));
  if (!r) return report("mv", display_path(a.from), r.error());
  return 0;
}

const bool registered =
    register_command("mv", "Rename or move a file on a 9P server", [](CLI::App& app) -> run_fn {
      auto a = std::make_shared<mv_args>();
      add_client_options(app, a->c);
      app.add_option("FROM", a->from, "Existing file")->required();
      app.add_option("TO", a->to, "New name, or an existing directory to move into")->required();
      app.footer(
          "9P2000 and 9P2000.u can only rename within a directory.\n"
          "Example:\n  ninep mv tcp!localhost!564 /tmp/a.txt /tmp/b.txt\n");
      return [a] { return run(*a); };
    });

}  // namespace
}  // namespace ninep::tools
