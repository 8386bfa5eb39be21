// SPDX-License-Identifier: MIT
// Arbitrary server replies through the client's reply matching (client::tag_table), as the
// session's read loop uses it, plus the parsing of Rread directory data and Rreaddir dirents.
// Input: byte 0 picks the dialect; the rest is a stream of frames (each size[4]-prefixed).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <ninep/client/tag_table.hpp>
#include <ninep/wire/codec.hpp>
#include <vector>

using namespace ninep;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  auto d = static_cast<wire::dialect>(data[0] % 3);
  // Copy into an exact-size heap buffer so ASan sees reads past the end.
  std::vector<std::byte> bytes(size - 1);
  if (!bytes.empty()) std::memcpy(bytes.data(), data + 1, size - 1);

  constexpr std::uint32_t msize = 65536;
  client::tag_table tags(16);
  tags.configure(d, msize);
  // Requests in flight, as a busy session would have them.
  const wire::message_body requests[] = {
      wire::Twalk{},  wire::Tread{1, 0, 100}, wire::Tread{1, 0, 8192},
      wire::Tclunk{}, wire::Tgetattr{},       wire::Treaddir{1, 0, 4096},
      wire::Tstat{},  wire::Tlopen{},         wire::Tflush{},
      wire::Twrite{}, wire::Tattach{},        wire::Treadlink{}};
  for (const auto& r : requests) (void)tags.reserve(client::expectation_for(r));

  std::span<const std::byte> rest(bytes);
  while (rest.size() >= 4) {
    std::uint32_t n = 0;
    for (int i = 3; i >= 0; --i) n = (n << 8) | std::to_integer<std::uint32_t>(rest[i]);
    std::size_t take = std::min<std::size_t>(n, rest.size());
    if (take < 4) take = 4;
    auto frame = rest.first(take);
    rest = rest.subspan(take);
    auto m = tags.match(frame);
    if (!m) break;  // the session closes the connection here
    if (m->reply) {
      const auto& body = m->reply->body;
      if (const auto* r = std::get_if<wire::Rreaddir>(&body)) {
        auto p = r->data.data;
        while (!p.empty()) {
          auto e = wire::decode_dirent(p);
          if (!e || e->size == 0) break;
          p = p.subspan(e->size);
        }
      }
      if (const auto* r = std::get_if<wire::Rread>(&body); r && d != wire::dialect::v2000L) {
        auto p = r->data.data;
        while (!p.empty()) {
          auto e = wire::decode_stat(p, d);
          if (!e || e->size == 0) break;
          p = p.subspan(e->size);
        }
      }
    }
    // The answered tag is free again and goes back into use, as in the session.
    auto e = client::expectation_for(requests[m->tag % std::size(requests)]);
    tags.release(m->tag);
    (void)tags.reserve(e);
  }
  return 0;
}
