#pragma once
// RFC 5922 section 7.1 server identity: which names a certificate vouches for and whether
// the name we connected to is among them. Exact matches only: a wildcard in a certificate
// is just a name no server is called.
#include <openssl/types.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "util/result.h"

namespace sipreg::net {

struct TlsPeerName {
    std::string name;  // as configured, brackets and one trailing dot removed
    bool ipLiteral = false;
    std::array<uint8_t, 16> ip{};
    std::size_t ipLength = 0;  // 4 or 16 when ipLiteral
};

// "example.com", "example.com.", "192.0.2.1", "::1", "[::1]".
TlsPeerName parseTlsPeerName(std::string_view serverName);

// Whether the name may go into SNI (RFC 6066: a DNS host name, never an address).
bool sniAllowed(const TlsPeerName& peer);

// Ok when cert identifies peer. The error message is the detail for a log line:
// "expected sip.example.com; peer certificate is for DNS:other.example, URI:sip:x.example".
Result<void> checkServerIdentity(X509* cert, const TlsPeerName& peer);

}  // namespace sipreg::net
