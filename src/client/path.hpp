// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ninep::client {

/// The elements of a '/'-separated path, without empty elements and ".".
inline std::vector<std::string> split_path(std::string_view p) {
  std::vector<std::string> out;
  while (!p.empty()) {
    auto slash = p.find('/');
    std::string_view e = p.substr(0, slash);
    if (!e.empty() && e != ".") out.emplace_back(e);
    if (slash == std::string_view::npos) break;
    p.remove_prefix(slash + 1);
  }
  return out;
}

/// "a/b/c" from {"a", "b", "c"}; "" for the root.
inline std::string join_path(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out += '/';
    out += n;
  }
  return out;
}

/// The parent directory and last element of `p` ("a/b/c" -> {"a/b", "c"}); the root has no
/// last element ({"", ""}).
inline std::pair<std::string, std::string> split_parent(std::string_view p) {
  auto names = split_path(p);
  if (names.empty()) return {};
  std::string last = std::move(names.back());
  names.pop_back();
  return {join_path(names), std::move(last)};
}

}  // namespace ninep::client
