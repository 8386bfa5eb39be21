// SPDX-License-Identifier: MIT
// Private: what the tag multiplexer (session.cpp) and the file API (file_ops.cpp) share.
#pragma once

#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <ninep/client/session.hpp>

namespace ninep::client {
namespace detail {

inline constexpr auto as_tuple = asio::experimental::as_tuple(asio::use_awaitable);
inline constexpr auto never = std::chrono::steady_clock::time_point::max();

}  // namespace detail

template <class T>
asio::awaitable<T> session::hop(asio::awaitable<T> a) {
  return asio::co_spawn(strand_, std::move(a), asio::use_awaitable);
}

template <class R>
asio::awaitable<outcome<R>> session::rpc(wire::message_body req, const call_options& o) {
  // Only for replies that borrow nothing from their frame (the frame dies here).
  auto r = co_await call(std::move(req), o);
  if (!r) co_return fail(r.error());
  co_return std::get<R>(r->msg.body);
}

}  // namespace ninep::client
