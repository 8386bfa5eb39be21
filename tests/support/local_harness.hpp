// SPDX-License-Identifier: MIT
// A scratch directory and the local-directory backend serving it, for server tests.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <ninep/fs/local.hpp>
#include <ninep/server/filesystem.hpp>
#include <stdexcept>

namespace ninep::test {

/// A fresh directory under /tmp, removed with everything in it when the object goes.
class temp_dir {
 public:
  temp_dir() {
    char tmpl[] = "/tmp/ninep-server-test-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
    path = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  std::filesystem::path path;
};

/// The local backend exporting `dir` to attaches with an empty aname.
inline std::shared_ptr<server::filesystem> local(const std::filesystem::path& dir) {
  fs::local_config c;
  c.default_dir = dir;
  auto f = fs::local_fs::make(c);
  if (!f) throw std::runtime_error(f.error().message());
  return std::shared_ptr<server::filesystem>(std::move(*f));
}

}  // namespace ninep::test
