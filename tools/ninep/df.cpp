// SPDX-License-Identifier: MIT
// ninep df: filesystem usage on a 9P server.
#include <fmt/core.h>

#include <memory>

#include "client_common.hpp"
#include "command.hpp"

namespace ninep::tools {
namespace {

struct df_args {
  client_args c;
  std::vector<std::string> paths;
  bool human = false;
};

std::string size(std::uint64_t bytes, bool human) {
  if (!human) return std::to_string(bytes / 1024);
  const char* units = "KMGTPE";
  double v = static_cast<double>(bytes) / 1024;
  int u = 0;
  while (v >= 1024 && u < 5) v /= 1024, ++u;
  return fmt::format("{:.1f}{}", v, units[u]);
}

int run(const df_args& a) {
  auto c = connect("df", a.c);
  if (!c) return 1;
  std::vector<std::string> paths = a.paths;
  if (paths.empty()) paths.push_back("/");
  fmt::print("{:<20} {:>12} {:>12} {:>12} {:>5} {:>12} {:>12}\n", "Path",
             a.human ? "Size" : "1K-blocks", "Used", "Available", "Use%", "Files", "Free");
  int status = 0;
  for (const auto& p : paths) {
    auto s = c->statfs(p, call_opts(a.c));
    if (!s) {
      status = report("df", display_path(p), s.error());
      continue;
    }
    std::uint64_t total = s->blocks * s->bsize, avail = s->bavail * s->bsize;
    std::uint64_t used = (s->blocks - std::min(s->bfree, s->blocks)) * s->bsize;
    std::uint64_t pct = used + avail ? (used * 100 + used + avail - 1) / (used + avail) : 0;
    fmt::print("{:<20} {:>12} {:>12} {:>12} {:>4}% {:>12} {:>12}\n", display_path(p),
               size(total, a.human), size(used, a.human), size(avail, a.human), pct, s->files,
               s->ffree);
  }
  return status;
}

const bool registered = register_command(
    "df", "Show filesystem usage on a 9P server (9P2000.L)", [](CLI::App& app) -> run_fn {
      auto a = std::make_shared<df_args>();
      add_client_options(app, a->c);
      app.add_option("PATH", a->paths, "Paths on the filesystems to show (default: the root)");
      app.add_flag("-H,--human-readable", a->human, "Sizes in K, M, G...");
      app.footer("Example:\n  ninep df -H tcp!localhost!564\n");
      return [a] { return run(*a); };
    });

}  // namespace
}  // namespace ninep::tools
