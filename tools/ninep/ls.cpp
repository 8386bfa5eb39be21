// SPDX-License-Identifier: MIT
// ninep ls: list directories on a 9P server.
#include <fmt/core.h>

#include <ctime>
#include <memory>

#include "client_common.hpp"
#include "command.hpp"

namespace ninep::tools {
namespace {

struct ls_args {
  client_args c;
  std::vector<std::string> paths;
  bool long_format = false, recursive = false, json = false;
};

std::string owner(const client::attr& a, bool group) {
  const std::string& name = group ? a.gname : a.uname;
  if (!name.empty()) return name;
  std::uint32_t id = group ? a.gid : a.uid;
  return id == client::no_id ? "?" : std::to_string(id);
}

std::string when(std::int64_t sec) {
  std::time_t t = static_cast<std::time_t>(sec);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm);
  return buf;
}

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      out += fmt::format("\\u{:04x}", c);
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

class lister {
 public:
  lister(client::client& c, const ls_args& a) : c_(c), a_(a) {}

  /// Lists `path`; returns the exit status.
  int list(const std::string& path, bool header) {
    auto st = c_.stat(path, call_opts(a_.c));
    if (!st) return report("ls", display_path(path), st.error());
    if (!st->is_dir()) {
      print(path, path, *st);
      return 0;
    }
    bool want_attr = a_.long_format || a_.json;
    auto entries = c_.readdir(path, want_attr, call_opts(a_.c));
    if (!entries) return report("ls", display_path(path), entries.error());
    std::sort(entries->begin(), entries->end(),
              [](const auto& x, const auto& y) { return x.name < y.name; });
    if (header && !a_.json) fmt::print("{}{}:\n", first_ ? "" : "\n", display_path(path));
    first_ = false;
    for (const auto& e : *entries) {
      std::string full = join(path, e.name);
      if (e.attr)
        print(e.name, full, *e.attr);
      else if (a_.json)
        print_json(full, nullptr, e.qid);
      else
        fmt::print("{}{}\n", e.name, (e.qid.type & wire::qt::dir) ? "/" : "");
    }
    int status = 0;
    if (a_.recursive)
      for (const auto& e : *entries)
        if (e.attr ? e.attr->is_dir() : (e.qid.type & wire::qt::dir) != 0)
          status |= list(join(path, e.name), true);
    return status;
  }

  void finish() {
    if (a_.json) fmt::print("{}]\n", json_first_ ? "[" : "\n");
  }

 private:
  void print(std::string_view name, const std::string& full, const client::attr& at) {
    if (a_.json) return print_json(full, &at, at.qid);
    if (!a_.long_format) {
      fmt::print("{}{}\n", name, at.is_dir() ? "/" : "");
      return;
    }
    std::string target;
    if (at.is_symlink()) {
      auto t = c_.readlink(full, call_opts(a_.c));
      if (t) target = " -> " + *t;
    }
    fmt::print("{} {:>3} {:<8} {:<8} {:>10} {} {}{}\n", mode_string(at.mode), at.nlink,
               owner(at, false), owner(at, true), at.size, when(at.mtime_sec), name, target);
  }

  void print_json(const std::string& full, const client::attr* at, const wire::qid& q) {
    fmt::print("{}\n  {{\"path\": {}, \"qid\": {{\"type\": {}, \"version\": {}, \"path\": {}}}",
               json_first_ ? "[" : ",", json_string(display_path(full)), q.type, q.version, q.path);
    json_first_ = false;
    if (at != nullptr) {
      const char* type = at->is_dir()       ? "dir"
                         : at->is_symlink() ? "symlink"
                         : at->is_regular() ? "file"
                                            : "other";
      fmt::print(
          ", \"type\": \"{}\", \"mode\": \"{:04o}\", \"size\": {}, \"nlink\": {}, \"uid\": {}, "
          "\"gid\": {}, \"mtime\": {}",
          type, at->mode & 07777, at->size, at->nlink, json_string(owner(*at, false)),
          json_string(owner(*at, true)), at->mtime_sec);
    }
    fmt::print("}}");
  }

  client::client& c_;
  const ls_args& a_;
  bool first_ = true;
  bool json_first_ = true;
};

int run(const ls_args& a) {
  auto c = connect("ls", a.c);
  if (!c) return 1;
  std::vector<std::string> paths = a.paths;
  if (paths.empty()) paths.push_back("/");
  lister l(*c, a);
  int status = 0;
  for (const auto& p : paths) status |= l.list(p, paths.size() > 1 || a.recursive);
  l.finish();
  return status;
}

const bool registered =
    register_command("ls", "List files on a 9P server", [](CLI::App& app) -> run_fn {
      auto a = std::make_shared<ls_args>();
      add_client_options(app, a->c);
      app.add_option("PATH", a->paths, "Files or directories to list (default: the root)");
      app.add_flag("-l,--long", a->long_format, "Long format: mode, links, owner, size, mtime");
      app.add_flag("-R,--recursive", a->recursive, "List subdirectories recursively");
      app.add_flag("--json", a->json, "Print a JSON array of entries");
      app.footer(
          "Example:\n  ninep ls -l tcp!localhost!564 /etc\n  ninep ls --json -R localhost:5640 "
          "/\n");
      return [a] { return run(*a); };
    });

}  // namespace
}  // namespace ninep::tools
