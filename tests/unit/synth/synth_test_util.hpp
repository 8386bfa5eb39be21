// SPDX-License-Identifier: MIT
// Helpers for the synth tests: users, contexts and a dirent collector.
#pragma once

#include <fcntl.h>

#include <ninep/server/filesystem.hpp>
#include <ninep/synth/tree_fs.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace ninep::test {

inline server::user make_user(std::uint32_t uid, std::string name = "u") {
  server::user u;
  u.name = std::move(name);
  u.uid = uid;
  return u;
}

inline std::span<const std::byte> bytes(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}
inline std::string text(std::span<const std::byte> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// Collects entries until `max` (then refuses, as a full Rreaddir would).
class collect_sink final : public server::dirent_sink {
 public:
  explicit collect_sink(std::size_t max = ~std::size_t{0}) : max_(max) {}
  struct item {
    wire::qid qid;
    std::uint64_t next;
    std::uint8_t type;
    std::string name;
  };
  bool add(const wire::qid& q, std::uint64_t next, std::uint8_t type,
           std::string_view name) override {
    if (items.size() >= max_) return false;
    items.push_back({q, next, type, std::string(name)});
    return true;
  }
  std::vector<item> items;

 private:
  std::size_t max_;
};

// A user and a stop source bundled: `cx` is what a server would pass.
struct caller {
  explicit caller(std::uint32_t uid = 0) : user(make_user(uid)) {}
  server::user user;
  std::stop_source stop;
  server::context cx() const { return server::context{user, stop.get_token()}; }
};

// Walks `path` (names separated by '/') from the root of `fs`.
inline server::walked walk_path(server::filesystem& fs, const server::context& cx,
                                std::string_view path) {
  auto w = fs.attach(cx);
  if (!w) throw std::runtime_error("attach: " + w.error().message());
  while (!path.empty()) {
    auto slash = path.find('/');
    auto name = path.substr(0, slash);
    path = slash == std::string_view::npos ? "" : path.substr(slash + 1);
    auto next = fs.walk(cx, *w->node, name);
    if (!next)
      throw std::runtime_error("walk " + std::string(name) + ": " + next.error().message());
    w = std::move(next);
  }
  return *w;
}

// Opens `path` and reads it whole.
inline std::string read_all(server::filesystem& fs, const server::context& cx,
                            std::string_view path) {
  auto w = walk_path(fs, cx, path);
  auto o = fs.open(cx, *w.node, O_RDONLY);
  if (!o) throw std::runtime_error("open: " + o.error().message());
  std::string out;
  std::byte buf[37];  // odd size: content crosses read boundaries
  for (;;) {
    auto n = fs.read(cx, *w.node, out.size(), buf);
    if (!n) throw std::runtime_error("read: " + n.error().message());
    if (*n == 0) return out;
    out += text({buf, *n});
  }
}

}  // namespace ninep::test
