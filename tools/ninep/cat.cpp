// SPDX-License-Identifier: MIT
// ninep cat: copy files from a 9P server to standard output.
#include <fmt/core.h>

#include <cstdio>
#include <memory>
#include <ninep/wire/dotl.hpp>
#include <system_error>

#include "client_common.hpp"
#include "command.hpp"

namespace ninep::tools {
namespace {

struct cat_args {
  client_args c;
  std::vector<std::string> paths;
};

int run(const cat_args& a) {
  auto c = connect("cat", a.c);
  if (!c) return 1;
  int status = 0;
  std::vector<std::byte> buf(4u << 20);
  for (const auto& p : a.paths) {
    auto f = c->open(p, wire::dotl::rdonly, call_opts(a.c));
    if (!f) {
      status = report("cat", display_path(p), f.error());
      continue;
    }
    if (f->qid().type & wire::qt::dir) {
      // 9P2000 directories read as packed stats, which are no use on a terminal.
      status = report("cat", display_path(p), std::make_error_code(std::errc::is_a_directory));
      continue;
    }
    std::uint64_t off = 0;
    std::size_t window = first_read_window;
    for (;;) {
      auto n = c->read(*f, off, std::span(buf).first(window), call_opts(a.c));
      if (!n) {
        status = report("cat", display_path(p), n.error());
        break;
      }
      if (*n == 0) break;
      if (*n == window) window = std::min(window * 2, buf.size());
      if (std::fwrite(buf.data(), 1, *n, stdout) != *n) {
        return report("cat", "stdout", std::error_code(errno, std::generic_category()));
      }
      off += *n;
    }
  }
  std::fflush(stdout);
  return status;
}

const bool registered =
    register_command("cat", "Print files from a 9P server", [](CLI::App& app) -> run_fn {
      auto a = std::make_shared<cat_args>();
      add_client_options(app, a->c);
      app.add_option("PATH", a->paths, "Files to print, in order")->required();
      app.footer("Example:\n  ninep cat tcp!localhost!564 /etc/hostname\n");
      return [a] { return run(*a); };
    });

}  // namespace
}  // namespace ninep::tools
