// SPDX-License-Identifier: MIT
#include "serve_main.hpp"

#include <fmt/core.h>

#include <ninep/transport/address.hpp>

namespace ninep::examples {

void add_serve_options(CLI::App& app, serve_args& a, const std::string& default_listen) {
  app.add_option("-l,--listen", a.listen,
                 "Address to serve on (repeatable): tcp!HOST!PORT, HOST:PORT or unix!/PATH "
                 "(default " +
                     default_listen + ")");
  app.add_option_function<std::string>(
         "--log-level",
         [&a](const std::string& s) {
           auto l = server::log_level_of(s);
           if (!l) throw CLI::ValidationError("--log-level", s + ": not a log level");
           a.opts.level = *l;
         },
         "error, warn, info, debug or trace (default info)")
      ->type_name("LEVEL");
  app.add_option("--workers", a.opts.workers, "Worker threads for backend calls")
      ->check(CLI::Range(1u, 1024u))
      ->capture_default_str();
}

int serve(const std::string& prog, serve_args a, std::shared_ptr<server::filesystem> fs,
          const std::string& default_listen,
          const std::function<void(server::file_server&)>& ready) {
  if (a.listen.empty()) a.listen.push_back(default_listen);
  server::block_stop_signals();  // before the server starts its threads
  server::file_server srv(std::move(fs), a.opts);
  for (const auto& l : a.listen) {
    auto addr = transport::parse_address(l);
    if (!addr) {
      fmt::print(stderr, "{}: --listen {}: not a dial string\n", prog, l);
      return 2;
    }
    if (auto ok = srv.listen(*addr); !ok) {
      fmt::print(stderr, "{}: listen {}: {}\n", prog, l, ok.error().message());
      return 1;
    }
  }
  for (std::size_t i = 0; i < a.listen.size(); ++i) {
    auto addr = srv.local_address(i);
    fmt::print(stderr, "{}: serving on {}\n", prog, transport::to_string(addr));
    if (addr.type == transport::address::kind::tcp)
      fmt::print(stderr, "  mount -t 9p -o trans=tcp,port={},version=9p2000.L {} /mnt\n", addr.port,
                 addr.host);
  }
  if (ready) ready(srv);
  server::run_until_signal(srv);
  return 0;
}

}  // namespace ninep::examples
