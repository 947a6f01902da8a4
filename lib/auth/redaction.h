#pragma once
// Making an Authorization / Proxy-Authorization value safe to log.
#include <string>
#include <string_view>

namespace sipreg::auth {

// Keeps the scheme and parameters such as username, realm, uri, algorithm, qop and nc, and
// replaces the values of response, cnonce and nonce by "…". A non-Digest value keeps only its
// scheme (Basic credentials are the password). Anything unparseable from that point on is
// replaced by "…" too, so the result never holds more secret material than the input's names.
std::string redactAuthorization(std::string_view headerValue);

}  // namespace sipreg::auth
