// SPDX-License-Identifier: MIT
// ninep chmod: change permission bits on a 9P server.
#include <memory>

#include "client_common.hpp"
#include "command.hpp"

namespace ninep::tools {
namespace {

struct chmod_args {
  client_args c;
  std::string mode;
  std::vector<std::string> paths;
};

int run(const chmod_args& a) {
  std::size_t used = 0;
  unsigned long mode = 0;
  try {
    mode = std::stoul(a.mode, &used, 8);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != a.mode.size() || mode > 07777) {
    return report("chmod", a.mode, std::make_error_code(std::errc::invalid_argument));
  }
  auto c = connect("chmod", a.c);
  if (!c) return 1;
  int status = 0;
  for (const auto& p : a.paths) {
    client::set_attr s;
    s.mode = static_cast<std::uint32_t>(mode);
    auto r = c->setattr(p, s, call_opts(a.c));
    if (!r) status = report("chmod", display_path(p), r.error());
  }
  return status;
}

const bool registered =
    register_command("chmod", "Change permission bits on a 9P server", [](CLI::App& app) -> run_fn {
      auto a = std::make_shared<chmod_args>();
      add_client_options(app, a->c);
      app.add_option("MODE", a->mode, "Octal mode, e.g. 644 or 2755")->required();
      app.add_option("PATH", a->paths, "Files to change")->required();
      app.footer("Example:\n  ninep chmod tcp!localhost!564 600 /home/me/.netrc\n");
      return [a] { return run(*a); };
    });

}  // namespace
}  // namespace ninep::tools
