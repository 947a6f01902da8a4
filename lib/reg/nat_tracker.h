#pragma once
// Decides when the Contact should move to the public address a registrar reports in the
// Via of its 2xx (received/rport), with hysteresis so that neither a symmetric NAT (a new
// port in every response) nor a load-balanced registrar (each node sees another address)
// can drive a re-registration loop:
//   - act only when two consecutive responses report the same address;
//   - never move to an address the Contact already had (no flipping back and forth);
//   - at most `perHour` rewrites in any hour.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/clock.h"

namespace sipreg::reg {

struct HostPort {
    std::string host;  // IPv6 without brackets
    uint16_t port = 0;
    bool operator==(const HostPort&) const = default;
};

class NatTracker {
public:
    // `seen`: what the registrar saw; `contact`: what our Contact says. Returns the address
    // to move the Contact to, and then remembers both as used.
    std::optional<HostPort> observe(const HostPort& seen, const HostPort& contact, TimePoint now,
                                    uint32_t perHour);

    std::size_t rewritesInLastHour(TimePoint now) const;

private:
    static constexpr std::size_t kMaxRemembered = 8;
    bool used(const HostPort& a) const;
    void remember(const HostPort& a);

    std::optional<HostPort> candidate_;
    std::vector<HostPort> used_;        // addresses our Contact has had (bounded)
    std::vector<TimePoint> rewrites_;   // within the last hour (bounded by perHour)
};

}  // namespace sipreg::reg
