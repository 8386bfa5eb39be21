// SPDX-License-Identifier: MIT
#include <cerrno>
#include <mutex>
#include <ninep/core/error.hpp>
#include <ninep/synth/aname_mux.hpp>

#include "forward.hpp"

namespace ninep::synth {
namespace {

using detail::foreign_node;

// Every node the mux hands out is a foreign_node made by attach() or a call on one.
foreign_node& fw(server::node& n) { return static_cast<foreign_node&>(n); }

}  // namespace

aname_mux::aname_mux(std::shared_ptr<server::filesystem> fallback)
    : fallback_(std::move(fallback)) {}

void aname_mux::add(std::string aname, std::shared_ptr<server::filesystem> fs) {
  std::unique_lock l(mu_);
  routes_.insert_or_assign(std::move(aname), std::move(fs));
}

result<server::walked> aname_mux::attach(const context& cx) {
  std::shared_ptr<server::filesystem> fs;
  {
    std::shared_lock l(mu_);
    auto it = routes_.find(cx.user.aname);
    fs = it != routes_.end() ? it->second : fallback_;
  }
  if (!fs) return fail(errno_code(ENOENT));
  auto w = fs->attach(cx);
  if (!w) return fail(w.error());
  auto f = std::make_shared<foreign_node>();
  f->fs = std::move(fs);
  f->inner = std::move(w->node);
  return server::walked{f, w->qid};
}

result<server::walked> aname_mux::walk(const context& cx, server::node& from,
                                       std::string_view name) {
  return detail::fwd_walk(cx, fw(from), name);
}
result<server::node_ptr> aname_mux::clone(const context& cx, const server::node_ptr& n) {
  return detail::fwd_clone(cx, fw(*n));
}
std::optional<result<server::attr>> aname_mux::try_getattr(const context& cx, server::node& n,
                                                           std::uint64_t mask) {
  return detail::fwd_try_getattr(cx, fw(n), mask);
}
std::optional<result<std::size_t>> aname_mux::try_read(const context& cx, server::node& n,
                                                       std::uint64_t offset,
                                                       std::span<std::byte> out) {
  return detail::fwd_try_read(cx, fw(n), offset, out);
}
result<server::attr> aname_mux::getattr(const context& cx, server::node& n, std::uint64_t mask) {
  return detail::fwd_getattr(cx, fw(n), mask);
}
result<void> aname_mux::setattr(const context& cx, server::node& n, const server::set_attr& a) {
  return detail::fwd_setattr(cx, fw(n), a);
}
result<server::opened> aname_mux::open(const context& cx, server::node& n, int flags) {
  return detail::fwd_open(cx, fw(n), flags);
}
result<server::created> aname_mux::create(const context& cx, server::node& dir,
                                          std::string_view name, int flags, std::uint32_t mode,
                                          std::uint32_t gid) {
  return detail::fwd_create(cx, fw(dir), name, flags, mode, gid);
}
result<std::size_t> aname_mux::read(const context& cx, server::node& n, std::uint64_t offset,
                                    std::span<std::byte> out) {
  return detail::fwd_read(cx, fw(n), offset, out);
}
void aname_mux::async_read(const context& cx, server::node& n, std::uint64_t offset,
                           std::span<std::byte> out, read_callback done) {
  detail::fwd_async_read(cx, fw(n), offset, out, std::move(done));
}
result<std::size_t> aname_mux::write(const context& cx, server::node& n, std::uint64_t offset,
                                     std::span<const std::byte> in) {
  return detail::fwd_write(cx, fw(n), offset, in);
}
result<void> aname_mux::readdir(const context& cx, server::node& n, std::uint64_t cookie,
                                server::dirent_sink& out) {
  return detail::fwd_readdir(cx, fw(n), cookie, out);
}
result<void> aname_mux::fsync(const context& cx, server::node& n, bool datasync) {
  return detail::fwd_fsync(cx, fw(n), datasync);
}
result<server::fs_stat> aname_mux::statfs(const context& cx, server::node& n) {
  return detail::fwd_statfs(cx, fw(n));
}
result<wire::qid> aname_mux::mkdir(const context& cx, server::node& dir, std::string_view name,
                                   std::uint32_t mode, std::uint32_t gid) {
  return detail::fwd_mkdir(cx, fw(dir), name, mode, gid);
}
result<wire::qid> aname_mux::symlink(const context& cx, server::node& dir, std::string_view name,
                                     std::string_view target, std::uint32_t gid) {
  return detail::fwd_symlink(cx, fw(dir), name, target, gid);
}
result<wire::qid> aname_mux::mknod(const context& cx, server::node& dir, std::string_view name,
                                   std::uint32_t mode, std::uint32_t major, std::uint32_t minor,
                                   std::uint32_t gid) {
  return detail::fwd_mknod(cx, fw(dir), name, mode, major, minor, gid);
}
result<std::string> aname_mux::readlink(const context& cx, server::node& n) {
  return detail::fwd_readlink(cx, fw(n));
}
result<void> aname_mux::link(const context& cx, server::node& dir, server::node& target,
                             std::string_view name) {
  return detail::fwd_link(cx, fw(dir), target, name);
}
result<void> aname_mux::rename(const context& cx, server::node& n, server::node& newdir,
                               std::string_view name) {
  return detail::fwd_rename(cx, fw(n), newdir, name);
}
result<void> aname_mux::renameat(const context& cx, server::node& olddir, std::string_view oldname,
                                 server::node& newdir, std::string_view newname) {
  return detail::fwd_renameat(cx, fw(olddir), oldname, newdir, newname);
}
result<void> aname_mux::unlinkat(const context& cx, server::node& dir, std::string_view name,
                                 std::uint32_t flags) {
  return detail::fwd_unlinkat(cx, fw(dir), name, flags);
}
result<void> aname_mux::remove(const context& cx, server::node& n) {
  return detail::fwd_remove(cx, fw(n));
}
result<std::uint8_t> aname_mux::lock(const context& cx, server::node& n,
                                     const server::lock_request& l) {
  return detail::fwd_lock(cx, fw(n), l);
}
result<server::lock_request> aname_mux::getlock(const context& cx, server::node& n,
                                                const server::lock_request& l) {
  return detail::fwd_getlock(cx, fw(n), l);
}
result<std::string> aname_mux::xattr_get(const context& cx, server::node& n,
                                         std::string_view name) {
  return detail::fwd_xattr_get(cx, fw(n), name);
}
result<void> aname_mux::xattr_set(const context& cx, server::node& n, std::string_view name,
                                  std::span<const std::byte> value, std::uint32_t flags) {
  return detail::fwd_xattr_set(cx, fw(n), name, value, flags);
}

}  // namespace ninep::synth
