// SPDX-License-Identifier: MIT
// Private: helpers that walk a message's field list generically.
#pragma once

#include <cstddef>
#include <ninep/wire/messages.hpp>
#include <utility>
#include <variant>

namespace ninep::wire::detail {

/// Calls f.template operator()<M>() for every alternative M of message_body.
template <class F>
constexpr void for_each_message_type(F&& f) {
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (f.template operator()<std::variant_alternative_t<I, message_body>>(), ...);
  }
  (std::make_index_sequence<std::variant_size_v<message_body>>{});
}

}  // namespace ninep::wire::detail
