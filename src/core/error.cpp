// SPDX-License-Identifier: MIT
#include <ninep/core/error.hpp>
#include <string>

namespace ninep {
namespace {

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "ninep"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::need_more:
        return "message truncated";
      case errc::bad_size:
        return "message size out of range";
      case errc::unknown_type:
        return "unknown message type";
      case errc::field_overrun:
        return "field runs past end of message";
      case errc::trailing_bytes:
        return "trailing bytes after message";
      case errc::too_many_elements:
        return "more than 16 walk elements";
      case errc::bad_stat_size:
        return "stat or dirent size inconsistent with contents";
      case errc::buffer_too_small:
        return "buffer too small";
      case errc::message_too_large:
        return "message larger than msize";
      case errc::unexpected_reply:
        return "unexpected reply";
      case errc::unsupported_version:
        return "unsupported protocol version";
      case errc::unknown_fid:
        return "unknown fid";
      case errc::fid_in_use:
        return "fid already in use";
      case errc::tag_in_use:
        return "tag already in use";
      case errc::connection_closed:
        return "connection closed";
      case errc::bad_address:
        return "bad dial string";
      case errc::cancelled:
        return "operation cancelled";
      case errc::unknown_aname:
        return "no file tree is served under this aname";
    }
    return "unknown ninep error";
  }
  std::error_condition default_error_condition(int ev) const noexcept override {
    switch (static_cast<errc>(ev)) {
      case errc::need_more:
      case errc::bad_size:
      case errc::unknown_type:
      case errc::field_overrun:
      case errc::trailing_bytes:
      case errc::too_many_elements:
      case errc::bad_stat_size:
        return condition::protocol_violation;
      default:
        return {ev, *this};
    }
  }
};

class condition_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "ninep.condition"; }
  std::string message(int ev) const override {
    return ev == static_cast<int>(condition::protocol_violation) ? "protocol violation"
                                                                 : "unknown condition";
  }
};

}  // namespace

const std::error_category& ninep_category() noexcept {
  static const category c;
  return c;
}
const std::error_category& ninep_condition_category() noexcept {
  static const condition_category c;
  return c;
}

}  // namespace ninep
