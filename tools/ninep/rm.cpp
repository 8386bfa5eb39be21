// SPDX-License-Identifier: MIT
// ninep rm: remove files and trees on a 9P server.
#include <memory>

#include "client_common.hpp"
#include "command.hpp"

namespace ninep::tools {
namespace {

struct rm_args {
  client_args c;
  std::vector<std::string> paths;
  bool recursive = false, force = false;
};

int remove_tree(client::client& c, const rm_args& a, const std::string& p) {
  if (a.recursive) {
    auto st = c.stat(p, call_opts(a.c));
    if (st && st->is_dir()) {
      auto entries = c.readdir(p, false, call_opts(a.c));
      if (!entries) return report("rm", display_path(p), entries.error());
      int status = 0;
      for (const auto& e : *entries) status |= remove_tree(c, a, join(p, e.name));
      if (status) return status;
    }
  }
  auto r = c.remove(p, call_opts(a.c));
  if (!r && !(a.force && r.error() == std::errc::no_such_file_or_directory))
    return report("rm", display_path(p), r.error());
  return 0;
}

int run(const rm_args& a) {
  auto c = connect("rm", a.c);
  if (!c) return 1;
  int status = 0;
  for (const auto& p : a.paths) status |= remove_tree(*c, a, p);
  return status;
}

const bool registered = register_command(
    "rm", "Remove files or directories on a 9P server", [](CLI::App& app) -> run_fn {
      auto a = std::make_shared<rm_args>();
      add_client_options(app, a->c);
      app.add_option("PATH", a->paths, "Files (or empty directories) to remove")->required();
      app.add_flag("-r,--recursive", a->recursive, "Remove directories and their contents");
      app.add_flag("-f,--force", a->force, "Ignore files that do not exist");
      app.footer("Example:\n  ninep rm -r tcp!localhost!564 /tmp/scratch\n");
      return [a] { return run(*a); };
    });

}  // namespace
}  // namespace ninep::tools
