// SPDX-License-Identifier: MIT
// ninep mount / ninep umount: a 9P server as a local directory, through FUSE.
#include <fcntl.h>
#include <fmt/core.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <memory>
#include <ninep/mount/mount.hpp>

#include "client_common.hpp"
#include "command.hpp"

namespace ninep::tools {
namespace {

struct mount_args {
  std::string address, mountpoint;
  std::vector<std::string> option_lists;
  bool foreground = false;
  std::string auth, munge_socket;
};

/// The mountpoint as an absolute path (the background process leaves the working directory);
/// as given when it does not resolve, so the error names what the user typed.
std::string absolute(const std::string& p) {
  char buf[PATH_MAX];
  if (::realpath(p.c_str(), buf) == nullptr) return p;
  return buf;
}

int run_mount(const mount_args& a) {
  mount::options o;
  o.address = a.address;
  o.mountpoint = absolute(a.mountpoint);
  // Who we are by default: $USER and this process's uid/gid, as the other client commands.
  o.session = session_options(client_args{});
  o.session.auth = a.auth;
  o.session.munge_socket = a.munge_socket;
  for (const auto& list : a.option_lists) {
    std::string why;
    if (!mount::apply_option_list(list, o, why)) {
      fmt::print(stderr, "ninep: mount: {}\n", why);
      return 2;
    }
  }
  // The connection and the attach must not hang a mount command forever.
  if (o.session.connect_timeout.count() == 0) o.session.connect_timeout = std::chrono::seconds(30);
  if (a.foreground) return mount::run(o, {});

  // Background: a child mounts and serves; the parent returns once the mount answers, with the
  // child's exit status if it failed first (its error line has been printed by then).
  int pipefd[2];
  if (::pipe(pipefd) != 0) {
    fmt::print(stderr, "ninep: mount: pipe: {}\n", std::strerror(errno));
    return 1;
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    fmt::print(stderr, "ninep: mount: fork: {}\n", std::strerror(errno));
    return 1;
  }
  if (pid > 0) {
    ::close(pipefd[1]);
    char c = 0;
    ssize_t n;
    while ((n = ::read(pipefd[0], &c, 1)) < 0 && errno == EINTR) {
    }
    if (n == 1) return 0;
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) && WEXITSTATUS(status) != 0 ? WEXITSTATUS(status) : 1;
  }
  ::close(pipefd[0]);
  ::setsid();
  int rc = mount::run(o, [fd = pipefd[1]] {
    // Mounted: tell the parent, then leave the terminal alone.
    (void)!::write(fd, "1", 1);
    ::close(fd);
    int null = ::open("/dev/null", O_RDWR);
    if (null >= 0) {
      ::dup2(null, 0);
      ::dup2(null, 1);
      ::dup2(null, 2);
      if (null > 2) ::close(null);
    }
    (void)!::chdir("/");
  });
  std::_Exit(rc);
}

int run_umount(const std::string& mountpoint) {
  std::string why;
  std::string mp = absolute(mountpoint);
  if (!mount::unmount(mp, why)) {
    fmt::print(stderr, "ninep: umount {}: {}\n", mountpoint, why);
    return 1;
  }
  return 0;
}

const bool registered_mount = register_command(
    "mount", "Mount a 9P server on a directory through FUSE", [](CLI::App& app) -> run_fn {
      auto a = std::make_shared<mount_args>();
      app.add_option("ADDR", a->address, "Server: tcp!host!port, unix!/path or host:port")
          ->required();
      app.add_option("MOUNTPOINT", a->mountpoint, "An existing directory")->required();
      app.add_option("-o", a->option_lists,
                     "Mount options, comma-separated: ro, allow_other, default_permissions, "
                     "version=9P2000.L|9P2000.u|9P2000, msize=N, aname=A, uname=U, "
                     "cache=none|loose, attr_timeout=S, entry_timeout=S, reconnect_timeout=S, "
                     "direct_io, debug");
      app.add_flag("-f,--foreground", a->foreground,
                   "Stay in the foreground (default: return once the mount answers)");
      app.add_option("--auth", a->auth,
                     "Authenticate before attaching: munge (diod's protocol; needs munged)")
          ->check(CLI::IsMember({"munge"}));
      app.add_option("--munge-socket", a->munge_socket, "munged's socket (default: libmunge's)");
      app.footer(
          "SIGINT, SIGTERM and SIGHUP unmount. Unmount with `ninep umount MOUNTPOINT`.\n"
          "Example:\n  ninep mount -o version=9P2000.L,cache=none tcp!server!564 /mnt/9\n");
      return [a] { return run_mount(*a); };
    });

const bool registered_umount = register_command(
    "umount", "Unmount a directory mounted with `ninep mount`", [](CLI::App& app) -> run_fn {
      auto mp = std::make_shared<std::string>();
      app.add_option("MOUNTPOINT", *mp, "The mounted directory")->required();
      return [mp] { return run_umount(*mp); };
    });

}  // namespace
}  // namespace ninep::tools
