#pragma once
// What RFC 3263 resolution of one SIP target produced, and the per-caller order in which
// its addresses are tried.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "crypto/random_source.h"
#include "txn/txn_types.h"

namespace sipreg::dns {

struct ResolvedAddress {
    std::array<uint8_t, 16> bytes{};  // IPv4 in the first 4 bytes
    bool ipv6 = false;
    bool operator==(const ResolvedAddress&) const = default;
};

// One SRV target, or the host itself when no SRV record applied.
struct ResolvedTarget {
    txn::TransportKind transport = txn::TransportKind::Udp;
    uint16_t priority = 0;
    uint16_t weight = 0;
    uint16_t port = 0;
    // Transport preference from NAPTR order (or the fixed SRV order without NAPTR): every
    // target of a lower rank is tried before any of a higher one, whatever its priority.
    uint16_t rank = 0;
    std::string host;  // SRV target or the looked-up host, for diagnostics
    // IPv4 addresses first, then IPv6: hosts often hold AAAA records without a working route.
    std::vector<ResolvedAddress> addresses;
};

struct ResolvedSet {
    std::vector<ResolvedTarget> targets;  // never empty in a successful resolution
    uint32_t ttlSeconds = 0;              // the smallest TTL among the records used
};

// The peers to try, in order: targets by rank and SRV priority, RFC 2782 weighted order
// within each (drawn from `random`, so callers with their own randomness spread over equal
// targets), then every allowed address of each target.
std::vector<txn::Peer> orderPeers(const ResolvedSet& set, crypto::RandomSource& random,
                                  bool allowIpv6 = true, bool allowIpv4 = true);

// One line per target for logs: "tls a.example.test:5061 prio 10 weight 60 [192.0.2.1, 2001:db8::1]".
std::string describe(const ResolvedSet& set);
// "192.0.2.1" or "2001:db8::1".
std::string addressText(const ResolvedAddress& address);

}  // namespace sipreg::dns
