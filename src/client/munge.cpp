// SPDX-License-Identifier: MIT
#include "munge.hpp"

#include <munge.h>

#include <cerrno>
#include <cstdlib>
#include <memory>
#include <ninep/core/error.hpp>

namespace ninep::client::detail {

result<std::string> munge_credential(const std::string& socket, std::string& why) {
  munge_ctx_t ctx = munge_ctx_create();
  if (ctx == nullptr) return fail(errno_code(ENOMEM));
  std::unique_ptr<std::remove_pointer_t<munge_ctx_t>, void (*)(munge_ctx_t)> guard(
      ctx, munge_ctx_destroy);
  if (!socket.empty() && munge_ctx_set(ctx, MUNGE_OPT_SOCKET, socket.c_str()) != EMUNGE_SUCCESS) {
    why = munge_ctx_strerror(ctx);
    return fail(errno_code(EINVAL));
  }
  char* cred = nullptr;
  munge_err_t e = munge_encode(&cred, ctx, nullptr, 0);
  if (e != EMUNGE_SUCCESS) {
    why = munge_strerror(e);
    return fail(errno_code(e == EMUNGE_SOCKET ? ECONNREFUSED : EACCES));
  }
  std::string out(cred);
  std::free(cred);
  return out;
}

}  // namespace ninep::client::detail
