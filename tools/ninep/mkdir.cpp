// SPDX-License-Identifier: MIT
// ninep mkdir: make directories on a 9P server.
#include <memory>

#include "client_common.hpp"
#include "command.hpp"

namespace ninep::tools {
namespace {

struct mkdir_args {
  client_args c;
  std::vector<std::string> paths;
  bool parents = false;
  std::string mode = "755";
};

int run(const mkdir_args& a) {
  std::uint32_t mode = 0;
  try {
    mode = static_cast<std::uint32_t>(std::stoul(a.mode, nullptr, 8)) & 07777;
  } catch (const std::exception&) {
    return report("mkdir", a.mode, std::make_error_code(std::errc::invalid_argument));
  }
  auto c = connect("mkdir", a.c);
  if (!c) return 1;
  int status = 0;
  for (const auto& p : a.paths) {
    if (a.parents) {
      // Each prefix in turn; existing directories are fine.
      std::string prefix;
      client::error err;
      std::string_view rest = p;
      while (!rest.empty()) {
        auto slash = rest.find('/');
        std::string_view e = rest.substr(0, slash);
        rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
        if (e.empty()) continue;
        prefix = join(prefix, e);
        auto r = c->mkdir(prefix, mode, call_opts(a.c));
        if (!r && r.error() != std::errc::file_exists) {
          err = r.error();
          break;
        }
      }
      if (err) status = report("mkdir", p, err);
      continue;
    }
    auto r = c->mkdir(p, mode, call_opts(a.c));
    if (!r) status = report("mkdir", p, r.error());
  }
  return status;
}

const bool registered =
    register_command("mkdir", "Make directories on a 9P server", [](CLI::App& app) -> run_fn {
      auto a = std::make_shared<mkdir_args>();
      add_client_options(app, a->c);
      app.add_option("PATH", a->paths, "Directories to make")->required();
      app.add_flag("-p,--parents", a->parents, "Make parents as needed; no error if it exists");
      app.add_option("-m,--mode", a->mode, "Permission bits, octal")->capture_default_str();
      app.footer("Example:\n  ninep mkdir -p tcp!localhost!564 /srv/a/b/c\n");
      return [a] { return run(*a); };
    });

}  // namespace
}  // namespace ninep::tools
