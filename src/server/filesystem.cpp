// SPDX-License-Identifier: MIT
#include <cerrno>
#include <ninep/core/error.hpp>
#include <ninep/server/filesystem.hpp>

namespace ninep::server {
namespace {
tl::unexpected<std::error_code> unsupported() { return fail(errno_code(EOPNOTSUPP)); }
}  // namespace

result<node_ptr> filesystem::clone(const context&, const node_ptr& n) { return n; }
result<attr> filesystem::getattr(const context&, node&, std::uint64_t) { return unsupported(); }
result<void> filesystem::setattr(const context&, node&, const set_attr&) { return unsupported(); }
result<opened> filesystem::open(const context&, node&, int) { return unsupported(); }
result<created> filesystem::create(const context&, node&, std::string_view, int, std::uint32_t,
                                   std::uint32_t) {
  return unsupported();
}
result<std::size_t> filesystem::read(const context&, node&, std::uint64_t, std::span<std::byte>) {
  return unsupported();
}
void filesystem::async_read(const context& cx, node& n, std::uint64_t offset,
                            std::span<std::byte> out, read_callback done) {
  done(read(cx, n, offset, out));
}
result<std::size_t> filesystem::write(const context&, node&, std::uint64_t,
                                      std::span<const std::byte>) {
  return unsupported();
}
result<void> filesystem::readdir(const context&, node&, std::uint64_t, dirent_sink&) {
  return unsupported();
}
result<void> filesystem::fsync(const context&, node&, bool) { return unsupported(); }
result<fs_stat> filesystem::statfs(const context&, node&) { return unsupported(); }
result<wire::qid> filesystem::mkdir(const context&, node&, std::string_view, std::uint32_t,
                                    std::uint32_t) {
  return unsupported();
}
result<wire::qid> filesystem::symlink(const context&, node&, std::string_view, std::string_view,
                                      std::uint32_t) {
  return unsupported();
}
result<wire::qid> filesystem::mknod(const context&, node&, std::string_view, std::uint32_t,
                                    std::uint32_t, std::uint32_t, std::uint32_t) {
  return unsupported();
}
result<std::string> filesystem::readlink(const context&, node&) { return unsupported(); }
result<void> filesystem::link(const context&, node&, node&, std::string_view) {
  return unsupported();
}
result<void> filesystem::rename(const context&, node&, node&, std::string_view) {
  return unsupported();
}
result<void> filesystem::renameat(const context&, node&, std::string_view, node&,
                                  std::string_view) {
  return unsupported();
}
result<void> filesystem::unlinkat(const context&, node&, std::string_view, std::uint32_t) {
  return unsupported();
}
result<void> filesystem::remove(const context&, node&) { return unsupported(); }
result<std::uint8_t> filesystem::lock(const context&, node&, const lock_request&) {
  return unsupported();
}
result<lock_request> filesystem::getlock(const context&, node&, const lock_request&) {
  return unsupported();
}
result<std::string> filesystem::xattr_get(const context&, node&, std::string_view) {
  return unsupported();
}
std::optional<result<std::size_t>> filesystem::try_read(const context&, node&, std::uint64_t,
                                                        std::span<std::byte>) {
  return std::nullopt;
}
std::optional<result<attr>> filesystem::try_getattr(const context&, node&, std::uint64_t) {
  return std::nullopt;
}
result<void> filesystem::xattr_set(const context&, node&, std::string_view,
                                   std::span<const std::byte>, std::uint32_t) {
  return unsupported();
}

}  // namespace ninep::server
