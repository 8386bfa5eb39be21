// SPDX-License-Identifier: MIT
// ninep get: copy files and trees from a 9P server to the local filesystem.
#include <fcntl.h>
#include <fmt/core.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <ninep/wire/dotl.hpp>

#include "client_common.hpp"
#include "command.hpp"

namespace ninep::tools {
namespace {

struct get_args {
  client_args c;
  std::string remote;
  std::string local;
  bool quiet = false;
};

std::error_code last_errno() { return {errno, std::generic_category()}; }

std::string base_name(std::string_view p) {
  while (p.size() > 1 && p.back() == '/') p.remove_suffix(1);
  auto slash = p.rfind('/');
  std::string_view b = slash == std::string_view::npos ? p : p.substr(slash + 1);
  return b.empty() || b == "/" ? "root" : std::string(b);
}

class getter {
 public:
  getter(client::client& c, const get_args& a)
      : c_(c), a_(a), progress_(!a.quiet && stderr_is_tty()), buf_(8u << 20) {}

  int get(const std::string& remote, const std::string& local) {
    auto st = c_.stat(remote, call_opts(a_.c));
    if (!st) return report("get", display_path(remote), st.error());
    if (st->is_dir()) {
      if (::mkdir(local.c_str(), 0700) != 0 && errno != EEXIST)
        return report("get", local, last_errno());
      auto entries = c_.readdir(remote, false, call_opts(a_.c));
      if (!entries) return report("get", display_path(remote), entries.error());
      int status = 0;
      for (const auto& e : *entries) status |= get(join(remote, e.name), join(local, e.name));
      ::chmod(local.c_str(), st->mode & 07777);
      return status;
    }
    if (st->is_symlink()) {
      auto t = c_.readlink(remote, call_opts(a_.c));
      if (!t) return report("get", display_path(remote), t.error());
      ::unlink(local.c_str());
      if (::symlink(t->c_str(), local.c_str()) != 0) return report("get", local, last_errno());
      return 0;
    }
    return copy(remote, local, *st);
  }

 private:
  int copy(const std::string& remote, const std::string& local, const client::attr& st) {
    auto f = c_.open(remote, wire::dotl::rdonly, call_opts(a_.c));
    if (!f) return report("get", display_path(remote), f.error());
    int fd = ::open(local.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return report("get", local, last_errno());
    auto start = std::chrono::steady_clock::now();
    std::uint64_t off = 0;
    std::size_t window = first_read_window;
    int status = 0;
    for (;;) {
      auto n = c_.read(*f, off, std::span(buf_).first(window), call_opts(a_.c));
      if (!n) {
        status = report("get", display_path(remote), n.error());
        break;
      }
      if (*n == 0) break;
      if (*n == window) window = std::min(window * 2, buf_.size());
      for (std::size_t done = 0; done < *n;) {
        ssize_t w = ::write(fd, buf_.data() + done, *n - done);
        if (w < 0) {
          if (errno == EINTR) continue;
          status = report("get", local, last_errno());
          break;
        }
        done += static_cast<std::size_t>(w);
      }
      if (status) break;
      off += *n;
      if (progress_) show(remote, off, st.size, start);
    }
    if (progress_) fmt::print(stderr, "\n");
    ::fchmod(fd, st.mode & 07777);
    if (::close(fd) != 0 && status == 0) status = report("get", local, last_errno());
    return status;
  }

  static void show(std::string_view name, std::uint64_t done, std::uint64_t total,
                   std::chrono::steady_clock::time_point start) {
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    double mib = static_cast<double>(done) / (1 << 20);
    unsigned pct =
        total ? static_cast<unsigned>(std::min<std::uint64_t>(100, done * 100 / total)) : 100;
    constexpr int width = 30;
    int fill = static_cast<int>(pct * width / 100);
    fmt::print(stderr, "\r{} [{}{}] {:3}% {:.1f} MiB {:.1f} MiB/s", name, std::string(fill, '#'),
               std::string(width - fill, ' '), pct, mib, secs > 0 ? mib / secs : 0.0);
  }

  client::client& c_;
  const get_args& a_;
  bool progress_;
  std::vector<std::byte> buf_;
};

int run(const get_args& a) {
  auto c = connect("get", a.c);
  if (!c) return 1;
  std::string local = a.local.empty() ? base_name(a.remote) : a.local;
  struct ::stat ls {};
  if (!a.local.empty() && ::stat(local.c_str(), &ls) == 0 && S_ISDIR(ls.st_mode))
    local = join(local, base_name(a.remote));  // like cp: into an existing directory
  getter g(*c, a);
  return g.get(a.remote, local);
}

const bool registered =
    register_command("get", "Copy a file or a tree from a 9P server", [](CLI::App& app) -> run_fn {
      auto a = std::make_shared<get_args>();
      add_client_options(app, a->c);
      app.add_option("REMOTE", a->remote, "File or directory on the server")->required();
      app.add_option("LOCAL", a->local,
                     "Destination (default: the remote name in the current directory; an "
                     "existing directory receives the copy inside it)");
      app.add_flag("-q,--quiet", a->quiet, "No progress bar (shown only when stderr is a tty)");
      app.footer(
          "Directories are copied recursively; symlinks are recreated.\n"
          "Example:\n  ninep get tcp!localhost!564 /srv/data ./data\n");
      return [a] { return run(*a); };
    });

}  // namespace
}  // namespace ninep::tools
