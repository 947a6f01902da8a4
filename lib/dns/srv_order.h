#pragma once
// RFC 2782 target selection: ascending priority; within one priority a weighted random
// order, where a target's chance to come next is its weight over the sum of the weights
// still left. Weight-0 targets go first in the running-sum list as the RFC says, so they
// are chosen only when the draw is exactly 0: in practice after every weighted one.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "crypto/random_source.h"

namespace sipreg::dns {

struct SrvCandidate {
    uint32_t priority = 0;  // lower first; callers may fold a coarser rank into the high bits
    uint16_t weight = 0;
};

// A permutation of the indexes of `candidates`. Ties among equal entries are broken by the
// random source too (RFC 2782 leaves their order open), so callers drawing from their own
// randomness spread over equal targets even when every weight is 0.
std::vector<std::size_t> orderSrvCandidates(std::span<const SrvCandidate> candidates,
                                            crypto::RandomSource& random);

// Uniform in [0, bound) for bound > 0 (rejection sampling, no modulo bias).
uint64_t randomBelow(uint64_t bound, crypto::RandomSource& random);

}  // namespace sipreg::dns
