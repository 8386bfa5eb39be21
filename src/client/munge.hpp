// SPDX-License-Identifier: MIT
// Private: a MUNGE credential for Tauth (diod's protocol: written to the afid, then Tattach).
#pragma once

#include <ninep/core/result.hpp>
#include <string>

namespace ninep::client::detail {

/// A fresh MUNGE credential for this process's uid, from munged at `socket` (empty: libmunge's
/// default). Errors: ECONNREFUSED (munged not reachable), EACCES (munged refused). `why` gets
/// munge's own words.
result<std::string> munge_credential(const std::string& socket, std::string& why);

}  // namespace ninep::client::detail
