// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <utility>
#include <vector>

namespace ninep::server {

/// Which users the holder of a TLS client certificate may attach as (`ninep serve --tls-users`).
///
/// The file has one grant per line, `USER SUBJECT`: a user name of the host, then the whole
/// certificate subject in RFC 2253 form, as `openssl x509 -noout -subject -nameopt RFC2253`
/// prints it after "subject=" (e.g. `alice CN=alice,O=Example`). Several lines may grant one
/// subject several users; the first is the one an attach gets when it names nobody. Blank
/// lines and lines starting with '#' are ignored. Subjects are compared exactly.
class cert_map {
 public:
  /// Reads `file`. Errors: "FILE: reason" or "FILE:LINE: reason".
  static tl::expected<cert_map, std::string> load(const std::string& file);
  /// Parses `text`; `origin` names it in errors ("origin:LINE: reason").
  static tl::expected<cert_map, std::string> parse(std::string_view text, std::string_view origin);

  /// The users `subject` may act as, in file order; empty: none.
  std::vector<std::string> users(std::string_view subject) const;

 private:
  std::vector<std::pair<std::string, std::string>> grants_;  ///< (subject, user)
};

}  // namespace ninep::server
