// SPDX-License-Identifier: MIT
// ninep stat: show a file's attributes.
#include <fmt/core.h>

#include <ctime>
#include <memory>

#include "client_common.hpp"
#include "command.hpp"

namespace ninep::tools {
namespace {

struct stat_args {
  client_args c;
  std::vector<std::string> paths;
  bool json = false;
};

std::string when(std::int64_t sec, std::int64_t nsec) {
  std::time_t t = static_cast<std::time_t>(sec);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return fmt::format("{}.{:09}", buf, nsec);
}

std::string kind(const client::attr& a) {
  switch (a.mode & client::mode_bits::ifmt) {
    case client::mode_bits::ifdir:
      return "directory";
    case client::mode_bits::iflnk:
      return "symbolic link";
    case client::mode_bits::ifreg:
      return "regular file";
    case client::mode_bits::ifchr:
      return "character device";
    case client::mode_bits::ifblk:
      return "block device";
    case client::mode_bits::ififo:
      return "fifo";
    case client::mode_bits::ifsock:
      return "socket";
    default:
      return "unknown";
  }
}

std::string id(std::uint32_t n, const std::string& name) {
  std::string num = n == client::no_id ? "-" : std::to_string(n);
  return name.empty() ? num : fmt::format("{} ({})", num, name);
}

int run(const stat_args& a) {
  auto c = connect("stat", a.c);
  if (!c) return 1;
  int status = 0;
  bool first = true;
  if (a.json) fmt::print("[");
  for (const auto& p : a.paths) {
    auto st = c->stat(p, call_opts(a.c));
    if (!st) {
      status = report("stat", display_path(p), st.error());
      continue;
    }
    if (a.json) {
      fmt::print(
          "{}\n  {{\"path\": \"{}\", \"type\": \"{}\", \"mode\": \"{:04o}\", \"size\": {}, "
          "\"nlink\": {}, \"uid\": {}, \"gid\": {}, \"uname\": \"{}\", \"gname\": \"{}\", "
          "\"atime\": {}, \"mtime\": {}, \"ctime\": {}, \"qid\": {{\"type\": {}, \"version\": {}, "
          "\"path\": {}}}}}",
          first ? "" : ",", display_path(p), kind(*st), st->mode & 07777, st->size, st->nlink,
          st->uid == client::no_id ? -1 : static_cast<std::int64_t>(st->uid),
          st->gid == client::no_id ? -1 : static_cast<std::int64_t>(st->gid), st->uname, st->gname,
          st->atime_sec, st->mtime_sec, st->ctime_sec, st->qid.type, st->qid.version, st->qid.path);
    } else {
      fmt::print("  File: {}\n  Type: {}\n  Size: {}\tBlocks: {}\tIO Block: {}\tLinks: {}\n",
                 display_path(p), kind(*st), st->size, st->blocks, st->blksize, st->nlink);
      fmt::print("  Mode: ({:04o}/{})\tUid: {}\tGid: {}\n", st->mode & 07777, mode_string(st->mode),
                 id(st->uid, st->uname), id(st->gid, st->gname));
      fmt::print("   Qid: type {:#04x} version {} path {}\n", st->qid.type, st->qid.version,
                 st->qid.path);
      fmt::print("Access: {}\nModify: {}\nChange: {}\n", when(st->atime_sec, st->atime_nsec),
                 when(st->mtime_sec, st->mtime_nsec), when(st->ctime_sec, st->ctime_nsec));
    }
    first = false;
  }
  if (a.json) fmt::print("\n]\n");
  return status;
}

const bool registered =
    register_command("stat", "Show file attributes on a 9P server", [](CLI::App& app) -> run_fn {
      auto a = std::make_shared<stat_args>();
      add_client_options(app, a->c);
      app.add_option("PATH", a->paths, "Files to describe")->required();
      app.add_flag("--json", a->json, "Print a JSON array");
      app.footer("Example:\n  ninep stat tcp!localhost!564 /etc/passwd\n");
      return [a] { return run(*a); };
    });

}  // namespace
}  // namespace ninep::tools
