// SPDX-License-Identifier: MIT
// ninep put: copy local files and trees to a 9P server.
#include <dirent.h>
#include <fcntl.h>
#include <fmt/core.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <ninep/wire/dotl.hpp>

#include "client_common.hpp"
#include "command.hpp"

namespace ninep::tools {
namespace {

struct put_args {
  client_args c;
  std::string local;
  std::string remote;
};

std::error_code last_errno() { return {errno, std::generic_category()}; }

std::string base_name(std::string_view p) {
  while (p.size() > 1 && p.back() == '/') p.remove_suffix(1);
  auto slash = p.rfind('/');
  return std::string(slash == std::string_view::npos ? p : p.substr(slash + 1));
}

class putter {
 public:
  putter(client::client& c, const put_args& a) : c_(c), a_(a), buf_(8u << 20) {}

  int put(const std::string& local, const std::string& remote) {
    struct ::stat st {};
    if (::lstat(local.c_str(), &st) != 0) return report("put", local, last_errno());
    if (S_ISDIR(st.st_mode)) {
      auto r = c_.mkdir(remote, st.st_mode & 0777, call_opts(a_.c));
      if (!r && r.error() != std::errc::file_exists)
        return report("put", display_path(remote), r.error());
      DIR* d = ::opendir(local.c_str());
      if (d == nullptr) return report("put", local, last_errno());
      std::vector<std::string> names;
      while (dirent* e = ::readdir(d)) {
        std::string_view n = e->d_name;
        if (n != "." && n != "..") names.emplace_back(n);
      }
      ::closedir(d);
      std::sort(names.begin(), names.end());
      int status = 0;
      for (const auto& n : names) status |= put(join(local, n), join(remote, n));
      return status;
    }
    if (S_ISLNK(st.st_mode)) {
      std::string target(4096, '\0');
      ssize_t n = ::readlink(local.c_str(), target.data(), target.size());
      if (n < 0) return report("put", local, last_errno());
      target.resize(static_cast<std::size_t>(n));
      auto r = c_.symlink(target, remote, call_opts(a_.c));
      if (!r) return report("put", display_path(remote), r.error());
      return 0;
    }
    if (!S_ISREG(st.st_mode)) {
      fmt::print(stderr, "ninep: put {}: not a regular file, skipped\n", local);
      return 1;
    }
    return copy(local, remote, st.st_mode & 07777);
  }

 private:
  int copy(const std::string& local, const std::string& remote, std::uint32_t mode) {
    int fd = ::open(local.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return report("put", local, last_errno());
    std::uint32_t flags = wire::dotl::wronly | wire::dotl::trunc;
    auto f = c_.create(remote, flags, mode, call_opts(a_.c));
    if (!f && f.error() == std::errc::file_exists) f = c_.open(remote, flags, call_opts(a_.c));
    if (!f) {
      ::close(fd);
      return report("put", display_path(remote), f.error());
    }
    std::uint64_t off = 0;
    int status = 0;
    for (;;) {
      ssize_t n = ::read(fd, buf_.data(), buf_.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        status = report("put", local, last_errno());
        break;
      }
      if (n == 0) break;
      auto chunk = std::span<const std::byte>(buf_.data(), static_cast<std::size_t>(n));
      auto w = c_.write(*f, off, chunk, call_opts(a_.c));
      if (!w || *w != chunk.size()) {
        status = report(
            "put", display_path(remote),
            w ? client::error{std::make_error_code(std::errc::no_space_on_device)} : w.error());
        break;
      }
      off += *w;
    }
    ::close(fd);
    auto cl = c_.clunk(std::move(*f), call_opts(a_.c));
    if (!cl && status == 0) status = report("put", display_path(remote), cl.error());
    return status;
  }

  client::client& c_;
  const put_args& a_;
  std::vector<std::byte> buf_;
};

int run(const put_args& a) {
  auto c = connect("put", a.c);
  if (!c) return 1;
  std::string remote = a.remote.empty() ? base_name(a.local) : a.remote;
  auto st = c->stat(remote, call_opts(a.c));
  if (st && st->is_dir()) {
    struct ::stat ls {};
    // Into an existing remote directory, like cp; a local directory onto a directory merges.
    if (::stat(a.local.c_str(), &ls) == 0 && !S_ISDIR(ls.st_mode))
      remote = join(remote, base_name(a.local));
  }
  putter p(*c, a);
  return p.put(a.local, remote);
}

const bool registered = register_command(
    "put", "Copy a local file or tree to a 9P server", [](CLI::App& app) -> run_fn {
      auto a = std::make_shared<put_args>();
      add_client_options(app, a->c);
      app.add_option("LOCAL", a->local, "Local file or directory")->required();
      app.add_option("REMOTE", a->remote,
                     "Destination on the server (default: the local name at the root; an "
                     "existing directory receives a file inside it)");
      app.footer(
          "Directories are copied recursively; symlinks are recreated (9P2000.L/.u).\n"
          "Example:\n  ninep put tcp!localhost!564 ./build.tar /tmp/build.tar\n");
      return [a] { return run(*a); };
    });

}  // namespace
}  // namespace ninep::tools
