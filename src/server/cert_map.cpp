// SPDX-License-Identifier: MIT
#include <cerrno>
#include <cstring>
#include <fstream>
#include <ninep/server/cert_map.hpp>
#include <sstream>

namespace ninep::server {

tl::expected<cert_map, std::string> cert_map::load(const std::string& file) {
  std::ifstream in(file);
  if (!in) return tl::unexpected(file + ": " + std::strerror(errno));
  std::stringstream text;
  text << in.rdbuf();
  return parse(text.str(), file);
}

tl::expected<cert_map, std::string> cert_map::parse(std::string_view text,
                                                    std::string_view origin) {
  cert_map m;
  std::size_t line_no = 0;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++line_no;
    auto first = line.find_first_not_of(" \t\r");
    if (first == std::string_view::npos || line[first] == '#') continue;
    line = line.substr(first, line.find_last_not_of(" \t\r") - first + 1);
    auto space = line.find_first_of(" \t");
    auto subject_at =
        space == std::string_view::npos ? space : line.find_first_not_of(" \t", space);
    if (subject_at == std::string_view::npos)
      return tl::unexpected(std::string(origin) + ":" + std::to_string(line_no) +
                            ": expected USER SUBJECT (e.g. alice CN=alice,O=Example)");
    std::string_view subject = line.substr(subject_at);
    if (subject.find('=') == std::string_view::npos)
      return tl::unexpected(std::string(origin) + ":" + std::to_string(line_no) + ": '" +
                            std::string(subject) + "' is not an RFC 2253 subject (CN=...)");
    m.grants_.emplace_back(std::string(subject), std::string(line.substr(0, space)));
  }
  return m;
}

std::vector<std::string> cert_map::users(std::string_view subject) const {
  std::vector<std::string> out;
  for (const auto& [s, u] : grants_)
    if (s == subject) out.push_back(u);
  return out;
}

}  // namespace ninep::server
