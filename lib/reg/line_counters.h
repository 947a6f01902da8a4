#pragma once
// What happened to one line since it was created; the engine exports these as metrics.
#include <cstdint>

namespace sipreg::reg {

struct LineCounters {
    uint64_t registerSent = 0;       // every REGISTER put on the wire (attempts, auth retries,
                                     // refreshes, unregisters)
    uint64_t registered = 0;         // 2xx that (re)established the binding
    uint64_t refreshed = 0;          // ... of which while already registered
    uint64_t challenged = 0;         // 401/407 received
    uint64_t staleNonces = 0;        // ... of which stale=true
    uint64_t preemptiveRejected = 0; // preemptive credentials refused, challenge answered
    uint64_t authRejected = 0;       // credentials refused: line failed
    uint64_t intervalTooBrief = 0;   // 423
    uint64_t timeouts = 0;           // no final response (Timer F)
    uint64_t transportErrors = 0;
    uint64_t serverFailures = 0;     // 408, 5xx, 6xx
    uint64_t refused = 0;            // 403, 404, other 3xx-4xx: line failed
    uint64_t lapses = 0;             // binding expired without a 2xx
    uint64_t natRewrites = 0;        // Contact moved to the public address
    uint64_t keepalivesSent = 0;
    uint64_t unregistered = 0;       // 2xx to an unregister
    uint64_t ignoredResponses = 0;   // responses that matched no request of ours, or unreadable
    uint16_t lastStatus = 0;         // last final status code (0: none or timeout)
};

}  // namespace sipreg::reg
