#pragma once
// The RFC 3263 resolution service the engine asks where a line's registrar (or outbound
// proxy) is. It runs dns::SipResolution over a DnsQuerier and keeps each result for its TTL,
// keyed by the request. It never blocks: a lookup answers from the cache at once or says a
// resolution is under way, and the ready listener fires when one finishes.
#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "dns/resolved_set.h"
#include "net/dns_client.h"
#include "txn/txn_types.h"
#include "util/clock.h"
#include "util/result.h"

namespace sipreg::net {

struct ResolveRequest {
    std::string host;
    bool hostIsIpLiteral = false;
    std::optional<uint16_t> port;
    std::optional<txn::TransportKind> transport;
    bool secure = false;
};

struct SipResolverSettings {
    Duration negativeTtl{30'000};  // how long a failed resolution is reported before a retry
    Duration minTtl{1'000};        // floor for record TTLs (TTL 0 would mean a lookup per use)
    Duration maxTtl{86'400'000};
};

class SipResolver {
public:
    using Settings = SipResolverSettings;

    struct Lookup {
        enum class Status { Ready, Pending, Failed };
        Status status = Status::Pending;
        std::shared_ptr<const dns::ResolvedSet> set;  // Ready only
        std::string error;                            // Failed only
    };

    struct Counters {
        uint64_t lookups = 0;
        uint64_t cacheHits = 0;       // answered Ready or Failed from the cache
        uint64_t resolutions = 0;     // started (first time, retries and refreshes)
        uint64_t refreshes = 0;       // started while a stale set kept being served
        uint64_t failures = 0;        // resolutions that ended in an error
        uint64_t queries = 0;         // DNS questions sent
    };

    SipResolver(DnsQuerier& dns, const Clock& clock, Settings settings = {});
    // A resolver with its own DnsClient on `loop` (servers as in DnsClient::Options).
    static Result<std::unique_ptr<SipResolver>> create(uv_loop_t* loop, std::vector<std::string> servers,
                                                       const Clock& clock, Settings settings = {});
    ~SipResolver();
    SipResolver(const SipResolver&) = delete;
    SipResolver& operator=(const SipResolver&) = delete;

    // Never blocks. Ready: from the cache; past its TTL the stale set is still returned
    // while a background refresh runs (and keeps being returned if the refresh fails).
    // Pending: a resolution runs; the ready listener fires when it ends. Failed: the last
    // resolution failed; reported until negativeTtl has passed, then retried.
    Lookup lookup(const ResolveRequest& request);

    // Called (from the loop, never from inside lookup()) whenever a resolution finishes.
    void setReadyListener(std::function<void()> onResolved);

    // The cache key: host (lower case), literal flag, port, transport and sips.
    static std::string keyOf(const ResolveRequest& request);

    // Drops every cached result; running resolutions finish into the fresh cache.
    void clear();

    std::size_t cachedEntries() const noexcept { return entries_.size(); }
    std::size_t runningResolutions() const noexcept;
    const Counters& counters() const noexcept { return counters_; }

private:
    struct Running;
    struct Entry {
        std::shared_ptr<const dns::ResolvedSet> set;
        TimePoint expires{};  // set: refresh after; failure: retry after
        std::string error;    // the last failure (kept beside a stale set for diagnostics)
        std::unique_ptr<Running> running;
    };

    void startResolution(const std::string& key, Entry& entry, const ResolveRequest& request);
    void pump(const std::string& key, Entry& entry);
    void onAnswer(const std::string& key, uint64_t generation, const std::string& name, uint16_t type,
                  Result<std::vector<uint8_t>> answer);
    void finish(Entry& entry, bool notify);
    Duration clampTtl(uint32_t seconds) const;

    std::unique_ptr<DnsQuerier> ownedDns_;
    DnsQuerier& dns_;
    const Clock& clock_;
    Settings settings_;
    std::unordered_map<std::string, Entry> entries_;
    std::function<void()> readyListener_;
    uint64_t nextGeneration_ = 1;
    Counters counters_;
    // Callbacks hold a weak reference: an answer arriving after the resolver is gone is dropped.
    std::shared_ptr<SipResolver*> self_;
};

}  // namespace sipreg::net
