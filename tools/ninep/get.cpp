// SPDX-License-Identifier: MIT
// ninep get: copy files and trees from a 9P server to the local filesystem.
#include <fcntl.h>
#include <fmt/core.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <ninep/wire/dotl.hpp>
#include <set>
#include <string_view>

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

/// Whether `name`, from a server's directory listing, is one path element that may be made in a
/// local directory: not empty, ".", "..", and no '/' or NUL. A server that lists anything else
/// is broken or hostile ("../x" would write outside the destination).
bool safe_entry_name(std::string_view name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string_view::npos &&
         name.find('\0') == std::string_view::npos;
}

/// `name` quoted for a message, control bytes escaped: it came from the server.
std::string quote_name(std::string_view name) {
  std::string out = "\"";
  for (unsigned char ch : name) {
    if (ch < 0x20 || ch == 0x7f || ch == '"' || ch == '\\')
      out += fmt::format("\\x{:02x}", ch);
    else
      out += static_cast<char>(ch);
  }
  return out + "\"";
}

/// Owns a directory descriptor.
class dir_fd {
 public:
  explicit dir_fd(int fd) noexcept : fd_(fd) {}
  dir_fd(const dir_fd&) = delete;
  dir_fd& operator=(const dir_fd&) = delete;
  ~dir_fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const noexcept { return fd_; }

 private:
  int fd_;
};

/// Copies remote trees. The destination named on the command line is the user's and is used as
/// given; everything below it is made from names the server sent, so it is written only through
/// descriptors: each name is checked (safe_entry_name, listed once per directory) and then
/// created or opened with *at() on its parent directory's descriptor with O_NOFOLLOW. A symlink
/// the server had us make is therefore never written through, nor is any path ever re-resolved.
class getter {
 public:
  getter(client::client& c, const get_args& a)
      : c_(c), a_(a), progress_(!a.quiet && stderr_is_tty()), buf_(8u << 20) {}

  /// Copies `remote` to the user's path `local`.
  int get(const std::string& remote, const std::string& local) {
    return get_at(AT_FDCWD, local, remote, local, false);
  }

 private:
  /// Copies `remote` to `name` in directory `dir` (`local`: the same, for messages). `beneath`:
  /// `name` came from the server, so no symlink is followed (O_NOFOLLOW).
  int get_at(int dir, const std::string& name, const std::string& remote, const std::string& local,
             bool beneath) {
    const int nofollow = beneath ? O_NOFOLLOW : 0;
    auto st = c_.stat(remote, call_opts(a_.c));
    if (!st) return report("get", display_path(remote), st.error());
    if (st->is_dir()) {
      if (::mkdirat(dir, name.c_str(), 0700) != 0 && errno != EEXIST)
        return report("get", local, last_errno());
      dir_fd sub(::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | nofollow));
      if (sub.get() < 0) return report("get", local, last_errno());
      const int status = fill(sub.get(), remote, local);
      ::fchmod(sub.get(), st->mode & 07777);
      return status;
    }
    if (st->is_symlink()) {
      auto t = c_.readlink(remote, call_opts(a_.c));
      if (!t) return report("get", display_path(remote), t.error());
      ::unlinkat(dir, name.c_str(), 0);
      if (::symlinkat(t->c_str(), dir, name.c_str()) != 0)
        return report("get", local, last_errno());
      return 0;
    }
    return copy(dir, name, remote, local, *st, nofollow);
  }

  /// Copies the entries of remote directory `remote` into the open directory `dir`.
  int fill(int dir, const std::string& remote, const std::string& local) {
    auto entries = c_.readdir(remote, false, call_opts(a_.c));
    if (!entries) return report("get", display_path(remote), entries.error());
    int status = 0;
    std::set<std::string_view> seen;
    for (const auto& e : *entries) {
      if (!safe_entry_name(e.name)) {
        fmt::print(stderr, "ninep: get {}: the server listed an unsafe entry name {}: not copied\n",
                   display_path(remote), quote_name(e.name));
        status = 1;
        continue;
      }
      // A name listed twice (say a symlink, then a directory of that name) could make the second
      // write through what the first made: refuse the repeat.
      if (!seen.insert(e.name).second) {
        fmt::print(stderr, "ninep: get {}: the server listed {} twice: the repeat is not copied\n",
                   display_path(remote), quote_name(e.name));
        status = 1;
        continue;
      }
      status |= get_at(dir, e.name, join(remote, e.name), join(local, e.name), true);
    }
    return status;
  }

  int copy(int dir, const std::string& name, const std::string& remote, const std::string& local,
           const client::attr& st, int nofollow) {
    auto f = c_.open(remote, wire::dotl::rdonly, call_opts(a_.c));
    if (!f) return report("get", display_path(remote), f.error());
    int fd = ::openat(dir, name.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | nofollow, 0600);
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
          "Directories are copied recursively; symlinks are recreated. Names the server lists\n"
          "are checked: an entry named \"\", \".\", \"..\", or with '/' or NUL, or listed twice\n"
          "in one directory, is not copied and makes the exit status 1; below DESTINATION\n"
          "nothing is written through a symlink.\n"
          "Example:\n  ninep get tcp!localhost!564 /srv/data ./data\n");
      return [a] { return run(*a); };
    });

}  // namespace
}  // namespace ninep::tools
