// SPDX-License-Identifier: MIT
// ninep shell: an interactive prompt on one connection (after go-p9p's 9pr): cd, ls, cat, stat.
#include <fmt/core.h>
#include <unistd.h>

#include <iostream>
#include <memory>
#include <ninep/wire/dotl.hpp>
#include <sstream>

#include "client_common.hpp"
#include "command.hpp"

namespace ninep::tools {
namespace {

struct shell_args {
  client_args c;
};

// Resolves `arg` against the current directory: absolute paths as they are, ".." pops.
std::string resolve(const std::string& cwd, const std::string& arg) {
  std::string joined = arg.empty() ? cwd : arg.front() == '/' ? arg : join(cwd, arg);
  std::vector<std::string> parts;
  std::istringstream in(joined);
  for (std::string p; std::getline(in, p, '/');) {
    if (p.empty() || p == ".") continue;
    if (p == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.push_back(p);
  }
  std::string out;
  for (const auto& p : parts) out += "/" + p;
  return out.empty() ? "/" : out;
}

int run(const shell_args& a) {
  auto c = connect("shell", a.c);
  if (!c) return 1;
  const bool tty = ::isatty(0) != 0;
  std::string cwd = "/";
  std::vector<std::byte> buf(1u << 20);
  int status = 0;
  for (std::string line;;) {
    if (tty) fmt::print("{}> ", cwd), std::fflush(stdout);
    if (!std::getline(std::cin, line)) break;
    std::istringstream words(line);
    std::string cmd, arg;
    words >> cmd;
    std::getline(words >> std::ws, arg);
    if (cmd.empty()) continue;
    const std::string path = resolve(cwd, arg);
    status = 0;
    if (cmd == "quit" || cmd == "exit") break;
    if (cmd == "help") {
      fmt::print("cd [DIR]  ls [DIR]  cat FILE  stat PATH  pwd  help  quit\n");
    } else if (cmd == "pwd") {
      fmt::print("{}\n", cwd);
    } else if (cmd == "cd") {
      auto st = c->stat(path, call_opts(a.c));
      if (!st)
        status = report("cd", display_path(path), st.error());
      else if (!st->is_dir())
        status = report("cd", display_path(path), std::make_error_code(std::errc::not_a_directory));
      else
        cwd = path;
    } else if (cmd == "ls") {
      auto entries = c->readdir(path, true, call_opts(a.c));
      if (!entries) {
        status = report("ls", display_path(path), entries.error());
        continue;
      }
      for (const auto& e : *entries) {
        if (e.name == "." || e.name == "..") continue;
        const bool dir = e.attr ? e.attr->is_dir() : (e.qid.type & wire::qt::dir) != 0;
        fmt::print("{}{}\n", e.name, dir ? "/" : "");
      }
    } else if (cmd == "cat") {
      auto f = c->open(path, wire::dotl::rdonly, call_opts(a.c));
      if (!f) {
        status = report("cat", display_path(path), f.error());
        continue;
      }
      for (std::uint64_t off = 0;;) {
        auto n = c->read(*f, off, buf, call_opts(a.c));
        if (!n) {
          status = report("cat", display_path(path), n.error());
          break;
        }
        if (*n == 0) break;
        std::fwrite(buf.data(), 1, *n, stdout);
        off += *n;
      }
      std::fflush(stdout);
    } else if (cmd == "stat") {
      auto st = c->stat(path, call_opts(a.c));
      if (!st) {
        status = report("stat", display_path(path), st.error());
        continue;
      }
      fmt::print("{} {} {} {} {}\n", mode_string(st->mode), st->nlink, st->size, st->mtime_sec,
                 path);
    } else {
      fmt::print(stderr, "ninep shell: {}: unknown command (try help)\n", cmd);
      status = 1;
    }
  }
  return tty ? 0 : status;
}

const bool registered = register_command(
    "shell", "Interactive prompt on a 9P server: cd, ls, cat, stat", [](CLI::App& app) -> run_fn {
      auto a = std::make_shared<shell_args>();
      add_client_options(app, a->c);
      app.footer(
          "Commands: cd [DIR], ls [DIR], cat FILE, stat PATH, pwd, help, quit.\n"
          "Reads commands from standard input, so it also runs scripts; then the exit status is "
          "that of the last command.\nExample:\n  ninep shell tcp!localhost!5640\n");
      return [a] { return run(*a); };
    });

}  // namespace
}  // namespace ninep::tools
