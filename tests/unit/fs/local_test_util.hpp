// SPDX-License-Identifier: MIT
#pragma once

// Shared helpers for the local_fs tests: a temporary tree with an export and an "outside"
// directory, a context, and small wrappers that turn results into values.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <ninep/core/error.hpp>
#include <ninep/fs/local.hpp>
#include <ninep/wire/dotl.hpp>
#include <string>
#include <vector>

namespace ninep::fs::testing {

namespace stdfs = std::filesystem;

/// A temporary directory holding `export/` (served) and `outside/` (must stay untouched).
class temp_tree {
 public:
  temp_tree() {
    std::string tmpl = (stdfs::temp_directory_path() / "ninep-fs-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    base_ = tmpl;
    stdfs::create_directory(exported());
    stdfs::create_directory(outside());
  }
  ~temp_tree() {
    std::error_code ec;
    stdfs::remove_all(base_, ec);
  }
  temp_tree(const temp_tree&) = delete;
  temp_tree& operator=(const temp_tree&) = delete;

  stdfs::path base() const { return base_; }
  stdfs::path exported() const { return base_ / "export"; }
  stdfs::path outside() const { return base_ / "outside"; }

 private:
  stdfs::path base_;
};

inline void write_file(const stdfs::path& p, const std::string& data) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f << data;
}

inline std::string read_host(const stdfs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

inline std::span<const std::byte> bytes(std::string_view s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

inline std::error_code err(int e) { return errno_code(e); }

/// The error of `r`, or an empty error_code when it succeeded (never calls error() on a value).
template <class R>
std::error_code ec(const R& r) {
  return r ? std::error_code{} : r.error();
}

/// Collects dirents, accepting at most `room` of them per readdir call.
class collect_sink final : public server::dirent_sink {
 public:
  struct item {
    wire::qid qid;
    std::uint64_t next;
    std::uint8_t type;
    std::string name;
  };
  explicit collect_sink(std::size_t room = SIZE_MAX) : room_(room) {}
  bool add(const wire::qid& q, std::uint64_t next, std::uint8_t t, std::string_view n) override {
    if (items.size() >= room_) return false;
    items.push_back({q, next, t, std::string(n)});
    return true;
  }
  std::vector<item> items;

 private:
  std::size_t room_;
};

/// A local_fs on a temp tree plus a root context.
class fs_fixture : public ::testing::Test {
 protected:
  void SetUp() override { fs_ = make({}); }

  std::unique_ptr<local_fs> make(local_config c) {
    if (c.default_dir.empty() && c.exports.empty()) c.default_dir = tree_.exported().string();
    auto r = local_fs::make(c);
    if (!r) {
      ADD_FAILURE() << r.error().message();
      return nullptr;
    }
    return std::move(*r);
  }

  server::context cx() const { return server::context{user_, {}}; }

  server::walked root() {
    auto r = fs_->attach(cx());
    EXPECT_TRUE(r.has_value());
    return *r;
  }

  /// Walks '/'-separated `path` from the root; fails the test on error.
  server::walked at(const std::string& path) {
    auto r = walk_path(path);
    EXPECT_TRUE(r.has_value()) << path << ": " << r.error().message();
    return r ? *r : server::walked{};
  }

  result<server::walked> walk_path(const std::string& path) {
    server::walked w = root();
    std::size_t pos = 0;
    while (pos < path.size()) {
      std::size_t end = path.find('/', pos);
      if (end == std::string::npos) end = path.size();
      auto r = fs_->walk(cx(), *w.node, std::string_view(path).substr(pos, end - pos));
      if (!r) return r;
      w = *r;
      pos = end + 1;
    }
    return w;
  }

  std::string read_all(server::node& n) {
    std::string s;
    std::vector<std::byte> buf(4096);
    for (;;) {
      auto r = fs_->read(cx(), n, s.size(), buf);
      EXPECT_TRUE(r.has_value());
      if (!r || *r == 0) return s;
      s.append(reinterpret_cast<const char*>(buf.data()), *r);
    }
  }

  stdfs::path host(const std::string& rel) const { return tree_.exported() / rel; }

  temp_tree tree_;
  server::user user_{"root", 0, ""};
  std::unique_ptr<local_fs> fs_;
};

}  // namespace ninep::fs::testing
