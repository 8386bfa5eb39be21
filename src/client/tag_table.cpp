// SPDX-License-Identifier: MIT
#include <ninep/client/tag_table.hpp>
#include <ninep/core/error.hpp>
#include <ninep/wire/codec.hpp>
#include <ninep/wire/errors.hpp>

namespace ninep::client {

expectation expectation_for(const wire::message_body& req) noexcept {
  expectation e;
  // Every T-message type is even and its R-message is the next number (intro(5), diod protocol).
  e.reply = static_cast<wire::msg_type>(static_cast<std::uint8_t>(wire::type_of(req)) + 1);
  if (const auto* r = std::get_if<wire::Tread>(&req)) e.max_count = r->count;
  if (const auto* r = std::get_if<wire::Treaddir>(&req)) e.max_count = r->count;
  return e;
}

tag_table::tag_table(std::size_t max_tags) {
  if (max_tags > wire::notag) max_tags = wire::notag;
  slots_.resize(max_tags);
  free_.reserve(max_tags);
  for (std::size_t t = max_tags; t > 0; --t) free_.push_back(static_cast<wire::tag_t>(t - 1));
}

result<wire::tag_t> tag_table::reserve(expectation e) noexcept {
  if (free_.empty()) return fail(std::make_error_code(std::errc::resource_unavailable_try_again));
  wire::tag_t t = free_.back();
  free_.pop_back();
  slots_[t] = {true, e.reply, e.max_count};
  return t;
}

void tag_table::release(wire::tag_t t) noexcept {
  if (!in_use(t)) return;
  slots_[t].used = false;
  free_.push_back(t);
}

result<matched_reply> tag_table::match(std::span<const std::byte> frame) const noexcept {
  auto h = wire::decode_header(frame, msize_);
  if (!h) return fail(h.error());
  if (h->size != frame.size()) return fail(make_error_code(errc::bad_size));
  if (!in_use(h->tag)) return fail(make_error_code(errc::unexpected_reply));
  const slot& s = slots_[h->tag];
  matched_reply out{h->tag, fail(make_error_code(errc::unexpected_reply)), {}};

  auto type = static_cast<wire::msg_type>(h->type);
  bool is_error = type == wire::msg_type::Rlerror || type == wire::msg_type::Rerror;
  if (!is_error && type != s.reply) return out;  // checked first: never decode what we won't use
  auto m = wire::decode(frame, dialect_, msize_);
  if (!m) {
    out.reply = fail(m.error());
    return out;
  }
  if (is_error) {
    std::error_code ec = wire::error_of(m->body);
    // errno 0 would read as success; a server that sends it still failed the request.
    out.reply = fail(ec ? ec : errno_code(EIO));
    out.error_text = wire::error_text_of(m->body);
    return out;
  }
  std::size_t count = 0;
  if (const auto* r = std::get_if<wire::Rread>(&m->body)) count = r->data.data.size();
  if (const auto* r = std::get_if<wire::Rreaddir>(&m->body)) count = r->data.data.size();
  if (count > s.max_count) return out;
  out.reply = std::move(*m);
  return out;
}

}  // namespace ninep::client
