#include "reg/nat_tracker.h"

#include <algorithm>

namespace sipreg::reg {
namespace {

constexpr Duration kHour{3'600'000};

bool sameAddress(const HostPort& a, const HostPort& b) {
    if (a.port != b.port || a.host.size() != b.host.size()) return false;
    return std::equal(a.host.begin(), a.host.end(), b.host.begin(), [](char x, char y) {
        auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
        return lower(x) == lower(y);
    });
}

}  // namespace

bool NatTracker::used(const HostPort& a) const {
    return std::any_of(used_.begin(), used_.end(), [&](const HostPort& u) { return sameAddress(u, a); });
}

void NatTracker::remember(const HostPort& a) {
    if (used(a)) return;
    if (used_.size() == kMaxRemembered) used_.erase(used_.begin());
    used_.push_back(a);
}

std::size_t NatTracker::rewritesInLastHour(TimePoint now) const {
    return static_cast<std::size_t>(std::count_if(
        rewrites_.begin(), rewrites_.end(), [&](TimePoint t) { return now - t < kHour; }));
}

std::optional<HostPort> NatTracker::observe(const HostPort& seen, const HostPort& contact,
                                            TimePoint now, uint32_t perHour) {
    if (sameAddress(seen, contact)) {
        candidate_.reset();  // the registrar agrees with us: any earlier disagreement was noise
        return std::nullopt;
    }
    if (!candidate_ || !sameAddress(*candidate_, seen)) {
        candidate_ = seen;  // first sighting: wait for a second, consistent one
        return std::nullopt;
    }
    candidate_.reset();
    if (perHour == 0 || used(seen)) return std::nullopt;
    rewrites_.erase(std::remove_if(rewrites_.begin(), rewrites_.end(),
                                   [&](TimePoint t) { return now - t >= kHour; }),
                    rewrites_.end());
    if (rewrites_.size() >= perHour) return std::nullopt;
    rewrites_.push_back(now);
    remember(contact);
    remember(seen);
    return seen;
}

}  // namespace sipreg::reg
