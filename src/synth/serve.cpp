// SPDX-License-Identifier: MIT
#include <fmt/core.h>
#include <pthread.h>
#include <signal.h>

#include <charconv>
#include <ninep/synth/serve.hpp>
#include <ninep/transport/address.hpp>
#include <string>
#include <thread>
#include <vector>

namespace ninep::synth {
namespace {

void usage(const char* prog, std::string_view default_listen) {
  fmt::print(stderr,
             "usage: {} [--listen ADDR]... [--log-level error|warn|info|debug|trace] "
             "[--workers N]\n  ADDR: tcp!HOST!PORT, HOST:PORT or unix!/PATH (default {})\n",
             prog, default_listen);
}

}  // namespace

int serve_main(int argc, char** argv, std::shared_ptr<server::filesystem> fs,
               std::string_view default_listen,
               const std::function<void(server::file_server&)>& ready) {
  std::vector<std::string> listen;
  server::options opts;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    std::string_view value;
    auto take = [&](std::string_view flag) {
      if (a == flag && i + 1 < argc) {
        value = argv[++i];
        return true;
      }
      if (a.starts_with(flag) && a.size() > flag.size() && a[flag.size()] == '=') {
        value = a.substr(flag.size() + 1);
        return true;
      }
      return false;
    };
    if (take("--listen") || take("-l")) {
      listen.emplace_back(value);
    } else if (take("--log-level")) {
      auto l = server::log_level_of(value);
      if (!l) return usage(argv[0], default_listen), 2;
      opts.level = *l;
    } else if (take("--workers")) {
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), opts.workers);
      if (ec != std::errc() || opts.workers == 0) return usage(argv[0], default_listen), 2;
    } else {
      usage(argv[0], default_listen);
      return a == "-h" || a == "--help" ? 0 : 2;
    }
  }
  if (listen.empty()) listen.emplace_back(default_listen);

  server::block_stop_signals();  // before the server starts its threads

  server::file_server srv(std::move(fs), opts);
  for (const auto& l : listen) {
    auto a = transport::parse_address(l);
    if (!a) {
      fmt::print(stderr, "{}: --listen {}: not a dial string\n", argv[0], l);
      return 2;
    }
    if (auto ok = srv.listen(*a); !ok) {
      fmt::print(stderr, "{}: listen {}: {}\n", argv[0], l, ok.error().message());
      return 1;
    }
  }
  for (std::size_t i = 0; i < listen.size(); ++i) {
    auto a = srv.local_address(i);
    fmt::print(stderr, "{}: serving on {}\n", argv[0], transport::to_string(a));
    if (a.type == transport::address::kind::tcp)
      fmt::print(stderr, "  mount -t 9p -o trans=tcp,port={},version=9p2000.L {} /mnt\n", a.port,
                 a.host);
  }
  if (ready) ready(srv);
  server::run_until_signal(srv);
  return 0;
}

}  // namespace ninep::synth
