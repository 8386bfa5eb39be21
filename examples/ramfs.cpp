// SPDX-License-Identifier: MIT
// ramfs: a complete writable in-memory file system over 9P (all three dialects): files,
// directories, rename, truncate, permissions and ownership, all kept in memory until exit.
// The tree is synth::dir::make_writable(); everything a client can do to it (walk, create,
// mkdir, read, write, truncate, rename, unlink, chmod, chown, utimes, readdir) is the synth
// framework's. This example adds only a limit on the number of files (ENOSPC) and, under
// aname "ctl", the server's control tree (diod-compatible null/zero and live counters).
//
//   ramfs [--listen tcp!127.0.0.1!5641]... [--max-files N] [--log-level LEVEL]
//   mount -t 9p -o trans=tcp,port=5641,version=9p2000.L 127.0.0.1 /mnt
#include <sys/stat.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <ninep/core/error.hpp>
#include <ninep/server/router.hpp>
#include <ninep/synth/ctl.hpp>
#include <ninep/synth/files.hpp>
#include <ninep/synth/tree_fs.hpp>
#include <string_view>
#include <vector>

#include "serve_main.hpp"

namespace {

using namespace ninep;

// Counts the entries clients have made (shared by every directory of one ramfs), so a
// runaway client gets ENOSPC instead of eating the host's memory one inode at a time.
struct quota {
  explicit quota(std::size_t max) : max_files(max) {}
  std::size_t max_files;
  std::atomic<std::size_t> used{0};
  bool take() {
    if (used.fetch_add(1) < max_files) return true;
    used--;
    return false;
  }
};

// An entry that gives its quota slot back when the last reference to it goes away (after
// unlink and the last clunk: an unlinked open file keeps working until then).
template <class Base>
class counted : public Base {
 public:
  template <class... Args>
  explicit counted(std::shared_ptr<quota> q, Args&&... args)
      : Base(std::forward<Args>(args)...), q_(std::move(q)) {}
  ~counted() override { q_->used--; }

 private:
  std::shared_ptr<quota> q_;
};

// A directory whose client-made children are counted against a quota. Everything else
// (permissions, listing, rename, unlink) is synth::dir and synth::tree_fs.
class ram_dir : public synth::dir {
 public:
  explicit ram_dir(std::shared_ptr<quota> q) : dir(0755), q_(std::move(q)) {
    set_client_writable(true);
  }

  result<std::shared_ptr<synth::file>> make_file(const synth::context&, std::string_view) override {
    if (!q_->take()) return fail(errno_code(ENOSPC));
    return std::make_shared<counted<synth::memory_file>>(q_);
  }
  result<std::shared_ptr<synth::dir>> make_dir(const synth::context&, std::string_view) override {
    if (!q_->take()) return fail(errno_code(ENOSPC));
    return std::make_shared<counted<ram_dir>>(q_, q_);
  }

 private:
  std::shared_ptr<quota> q_;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "ramfs: a writable in-memory file system over 9P; aname \"ctl\" is the server's "
      "control tree"};
  std::size_t max_files = 1'000'000;
  app.add_option("--max-files", max_files, "Files and directories clients may make (then ENOSPC)")
      ->capture_default_str();
  examples::serve_args args;
  const std::string default_listen = "tcp!127.0.0.1!5641";
  examples::add_serve_options(app, args, default_listen);
  CLI11_PARSE(app, argc, argv);

  auto root = std::make_shared<ram_dir>(std::make_shared<quota>(max_files));
  auto routes = std::make_shared<server::router>(synth::tree_fs::make(root));
  return examples::serve(
      "ramfs", std::move(args), routes, default_listen, [&](server::file_server& srv) {
        // The control tree reads the server's counters: add it once the
        // server exists.
        routes->add("ctl", synth::tree_fs::make(synth::make_ctl_tree(
                               srv.stats(), [&srv](server::log_level l) { srv.set_level(l); })));
      });
}
