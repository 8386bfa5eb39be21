// SPDX-License-Identifier: MIT
#include <cerrno>
#include <mutex>
#include <ninep/core/error.hpp>
#include <ninep/server/router.hpp>

namespace ninep::server {

router::router(std::shared_ptr<filesystem> fallback) : fallback_(std::move(fallback)) {}

void router::add(std::string aname, std::shared_ptr<filesystem> fs) {
  std::unique_lock l(mu_);
  routes_.insert_or_assign(std::move(aname), std::move(fs));
}

bool router::erase(std::string_view aname) {
  std::unique_lock l(mu_);
  auto it = routes_.find(aname);
  if (it == routes_.end()) return false;
  routes_.erase(it);
  return true;
}

std::shared_ptr<filesystem> router::find(std::string_view aname) const {
  std::shared_lock l(mu_);
  auto it = routes_.find(aname);
  return it != routes_.end() ? it->second : fallback_;
}

result<walked> router::attach(const context& cx) {
  auto fs = find(cx.user.aname);
  if (!fs) return fail(make_error_code(errc::unknown_aname));
  auto w = fs->attach(cx);
  if (!w) return w;
  // The routed filesystem may itself hand the node on (a router behind a router).
  if (!w->fs) w->fs = std::move(fs);
  return w;
}

result<walked> router::walk(const context&, node&, std::string_view) {
  return fail(errno_code(EOPNOTSUPP));
}

}  // namespace ninep::server
