// SPDX-License-Identifier: MIT
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <ninep/core/error.hpp>
#include <ninep/synth/files.hpp>
#include <ninep/synth/node.hpp>
#include <ninep/wire/types.hpp>

namespace ninep::synth {
namespace {

// The one process-wide counter: qid paths must differ across every tree in the process,
// because trees are mounted inside one another and served side by side by one server.
std::atomic<std::uint64_t> next_id{1};

std::pair<std::uint64_t, std::uint64_t> now() {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
  return {static_cast<std::uint64_t>(ns / 1000000000), static_cast<std::uint64_t>(ns % 1000000000)};
}

// A handle that forwards to its file: the default for stateless files.
class forwarding_handle final : public handle {
 public:
  explicit forwarding_handle(std::shared_ptr<file> f) : f_(std::move(f)) {}
  result<std::size_t> read(const context& cx, std::uint64_t off,
                           std::span<std::byte> out) override {
    return f_->read(cx, off, out);
  }
  result<std::size_t> write(const context& cx, std::uint64_t off,
                            std::span<const std::byte> in) override {
    return f_->write(cx, off, in);
  }

 private:
  std::shared_ptr<file> f_;
};

}  // namespace

entry::entry(std::uint32_t mode) : id_(next_id++), mode_(mode) {
  std::tie(mtime_sec_, mtime_nsec_) = now();
  atime_sec_ = mtime_sec_;
  atime_nsec_ = mtime_nsec_;
}

wire::qid entry::qid() const noexcept {
  return {static_cast<std::uint8_t>(is_dir() ? wire::qt::dir : wire::qt::file), version_.load(),
          id_};
}
bool entry::is_dir() const noexcept {
  std::lock_guard l(mu_);
  return (mode_ & S_IFMT) == S_IFDIR;
}
std::uint32_t entry::mode() const {
  std::lock_guard l(mu_);
  return mode_;
}
std::uint32_t entry::uid() const {
  std::lock_guard l(mu_);
  return uid_;
}
std::uint32_t entry::gid() const {
  std::lock_guard l(mu_);
  return gid_;
}
void entry::set_perm(std::uint32_t perm) {
  {
    std::lock_guard l(mu_);
    mode_ = (mode_ & S_IFMT) | (perm & 07777);
  }
  version_++;
}
void entry::set_owner(std::uint32_t uid, std::uint32_t gid) {
  {
    std::lock_guard l(mu_);
    uid_ = uid;
    gid_ = gid;
  }
  version_++;
}
std::pair<std::uint64_t, std::uint64_t> entry::mtime() const {
  std::lock_guard l(mu_);
  return {mtime_sec_, mtime_nsec_};
}
std::pair<std::uint64_t, std::uint64_t> entry::atime() const {
  std::lock_guard l(mu_);
  return {atime_sec_, atime_nsec_};
}
void entry::set_mtime(std::uint64_t sec, std::uint64_t nsec) {
  std::lock_guard l(mu_);
  mtime_sec_ = sec;
  mtime_nsec_ = nsec;
}
void entry::set_atime(std::uint64_t sec, std::uint64_t nsec) {
  std::lock_guard l(mu_);
  atime_sec_ = sec;
  atime_nsec_ = nsec;
}
void entry::touch() {
  auto [s, ns] = now();
  set_mtime(s, ns);
  version_++;
}
std::string entry::name() const {
  std::lock_guard l(mu_);
  return name_;
}
std::shared_ptr<dir> entry::parent() const {
  std::lock_guard l(mu_);
  return parent_.lock();
}

result<std::size_t> handle::read(const context&, std::uint64_t, std::span<std::byte>) {
  return fail(errno_code(EOPNOTSUPP));
}
result<std::size_t> handle::write(const context&, std::uint64_t, std::span<const std::byte>) {
  return fail(errno_code(EOPNOTSUPP));
}
void handle::async_read(const context& cx, std::uint64_t offset, std::span<std::byte> out,
                        read_callback done) {
  done(read(cx, offset, out));
}

file::file(std::uint32_t perm) : entry(S_IFREG | (perm & 07777)) {}

result<std::unique_ptr<handle>> file::open(const context&, int) {
  return std::make_unique<forwarding_handle>(std::static_pointer_cast<file>(shared_from_this()));
}
result<std::size_t> file::read(const context&, std::uint64_t, std::span<std::byte>) {
  return fail(errno_code(EOPNOTSUPP));
}
result<std::size_t> file::write(const context&, std::uint64_t, std::span<const std::byte>) {
  return fail(errno_code(EOPNOTSUPP));
}
result<void> file::truncate(const context&, std::uint64_t size) {
  if (size == 0) return {};
  return fail(errno_code(EOPNOTSUPP));
}

dir::dir(std::uint32_t perm) : entry(S_IFDIR | (perm & 07777)) {}

std::shared_ptr<dir> dir::make_writable(std::uint32_t perm) {
  auto d = std::make_shared<dir>(perm);
  d->set_client_writable(true);
  return d;
}

result<void> dir::add(std::string_view name, std::shared_ptr<entry> e) {
  if (!e || !wire::valid_name(name)) return fail(errno_code(EINVAL));
  std::lock_guard l(children_mu_);
  if (children_.contains(name)) return fail(errno_code(EEXIST));
  {
    std::lock_guard el(e->mu_);
    if (!e->parent_.expired() || e.get() == this) return fail(errno_code(EINVAL));
    e->parent_ = std::static_pointer_cast<dir>(shared_from_this());
    e->name_ = std::string(name);
  }
  children_.emplace(std::string(name), std::move(e));
  touch();
  return {};
}

result<std::shared_ptr<dir>> dir::subdir(std::string_view name, std::uint32_t perm) {
  if (auto e = find(name)) {
    if (!e->is_dir()) return fail(errno_code(ENOTDIR));
    return std::static_pointer_cast<dir>(e);
  }
  auto d = std::make_shared<dir>(perm);
  if (auto ok = add(name, d); !ok) return fail(ok.error());
  return d;
}

result<void> dir::remove(std::string_view name) {
  std::shared_ptr<entry> gone;
  {
    std::lock_guard l(children_mu_);
    auto it = children_.find(name);
    if (it == children_.end()) return fail(errno_code(ENOENT));
    gone = std::move(it->second);
    children_.erase(it);
    std::lock_guard el(gone->mu_);
    gone->parent_.reset();
  }
  touch();
  return {};
}

std::shared_ptr<entry> dir::find(std::string_view name) const {
  std::lock_guard l(children_mu_);
  auto it = children_.find(name);
  return it == children_.end() ? nullptr : it->second;
}

std::vector<std::pair<std::string, std::shared_ptr<entry>>> dir::list() const {
  std::lock_guard l(children_mu_);
  return {children_.begin(), children_.end()};
}

std::size_t dir::count() const {
  std::lock_guard l(children_mu_);
  return children_.size();
}

result<std::shared_ptr<file>> dir::make_file(const context&, std::string_view) {
  return writable_file();
}
result<std::shared_ptr<dir>> dir::make_dir(const context&, std::string_view) {
  return make_writable();
}

result<void> dir::rename(dir& from, std::string_view from_name, dir& to, std::string_view to_name) {
  if (!wire::valid_name(to_name)) return fail(errno_code(EINVAL));
  // Moving a directory under itself would detach a loop from the tree.
  std::shared_ptr<entry> moving = from.find(from_name);
  if (!moving) return fail(errno_code(ENOENT));
  if (moving->is_dir()) {
    for (std::shared_ptr<entry> p = to.shared_from_this(); p; p = p->parent())
      if (p == moving) return fail(errno_code(EINVAL));
  }
  std::shared_ptr<entry> replaced;
  {
    // std::lock orders the two locks, so renames in opposite directions cannot deadlock.
    std::unique_lock<std::mutex> lf(from.children_mu_, std::defer_lock),
        lt(to.children_mu_, std::defer_lock);
    if (&from == &to)
      lf.lock();
    else
      std::lock(lf, lt);
    auto it = from.children_.find(from_name);
    if (it == from.children_.end() || it->second != moving) return fail(errno_code(ENOENT));
    if (&from == &to && from_name == to_name) return {};
    if (auto t = to.children_.find(to_name); t != to.children_.end()) {
      bool src_dir = moving->is_dir(), dst_dir = t->second->is_dir();
      if (src_dir && !dst_dir) return fail(errno_code(ENOTDIR));
      if (!src_dir && dst_dir) return fail(errno_code(EISDIR));
      if (dst_dir && std::static_pointer_cast<dir>(t->second)->count() != 0)
        return fail(errno_code(ENOTEMPTY));
      replaced = std::move(t->second);
      to.children_.erase(t);
      std::lock_guard rl(replaced->mu_);
      replaced->parent_.reset();
    }
    from.children_.erase(it);
    {
      std::lock_guard ml(moving->mu_);
      moving->parent_ = std::static_pointer_cast<dir>(to.shared_from_this());
      moving->name_ = std::string(to_name);
    }
    to.children_.emplace(std::string(to_name), moving);
  }
  from.touch();
  if (&from != &to) to.touch();
  return {};
}

}  // namespace ninep::synth
