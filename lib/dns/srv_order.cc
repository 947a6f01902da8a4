#include "dns/srv_order.h"

#include <algorithm>
#include <array>
#include <limits>
#include <numeric>

namespace sipreg::dns {

uint64_t randomBelow(uint64_t bound, crypto::RandomSource& random) {
    if (bound <= 1) return 0;
    // Draws above the last whole multiple of `bound` would favour small results.
    const uint64_t limit = std::numeric_limits<uint64_t>::max() - std::numeric_limits<uint64_t>::max() % bound;
    uint64_t v = 0;
    // Each draw is rejected with probability below bound / 2^64; the cap only keeps the loop
    // bounded against a broken source.
    for (int attempt = 0; attempt < 64; ++attempt) {
        std::array<uint8_t, 8> bytes{};
        random.fill(bytes);
        v = 0;
        for (uint8_t b : bytes) v = (v << 8) | b;
        if (v < limit) break;
    }
    return v % bound;
}

std::vector<std::size_t> orderSrvCandidates(std::span<const SrvCandidate> candidates,
                                            crypto::RandomSource& random) {
    std::vector<std::size_t> pool(candidates.size());
    std::iota(pool.begin(), pool.end(), std::size_t{0});
    // Shuffle first so equal entries (notably all-zero weights) come out in random order.
    for (std::size_t i = pool.size(); i > 1; --i) {
        std::swap(pool[i - 1], pool[static_cast<std::size_t>(randomBelow(i, random))]);
    }
    std::stable_sort(pool.begin(), pool.end(), [&](std::size_t a, std::size_t b) {
        if (candidates[a].priority != candidates[b].priority) return candidates[a].priority < candidates[b].priority;
        // Weight 0 first within a priority (RFC 2782, "Usage rules").
        return candidates[a].weight == 0 && candidates[b].weight != 0;
    });

    std::vector<std::size_t> out;
    out.reserve(pool.size());
    std::size_t groupStart = 0;
    while (groupStart < pool.size()) {
        std::size_t groupEnd = groupStart;
        while (groupEnd < pool.size() && candidates[pool[groupEnd]].priority == candidates[pool[groupStart]].priority) {
            ++groupEnd;
        }
        std::vector<std::size_t> group(pool.begin() + static_cast<std::ptrdiff_t>(groupStart),
                                       pool.begin() + static_cast<std::ptrdiff_t>(groupEnd));
        while (!group.empty()) {
            uint64_t total = 0;
            for (std::size_t idx : group) total += candidates[idx].weight;
            // Uniform in [0, total] inclusive: the first entry whose running sum reaches the
            // draw is taken.
            const uint64_t draw = randomBelow(total + 1, random);
            uint64_t running = 0;
            std::size_t pick = group.size() - 1;
            for (std::size_t i = 0; i < group.size(); ++i) {
                running += candidates[group[i]].weight;
                if (running >= draw) {
                    pick = i;
                    break;
                }
            }
            out.push_back(group[pick]);
            group.erase(group.begin() + static_cast<std::ptrdiff_t>(pick));
        }
        groupStart = groupEnd;
    }
    return out;
}

}  // namespace sipreg::dns
