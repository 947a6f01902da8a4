#include "net/sip_resolver.h"

#include <algorithm>

#include "dns/dns_message.h"
#include "dns/sip_resolution.h"

namespace sipreg::net {

struct SipResolver::Running {
    explicit Running(dns::ResolutionInput input, uint64_t gen) : machine(std::move(input)), generation(gen) {}
    dns::SipResolution machine;
    uint64_t generation;  // answers from an older resolution of the same key are ignored
};

SipResolver::SipResolver(DnsQuerier& dns, const Clock& clock, Settings settings)
    : dns_(dns), clock_(clock), settings_(settings), self_(std::make_shared<SipResolver*>(this)) {}

SipResolver::~SipResolver() { self_.reset(); }

Result<std::unique_ptr<SipResolver>> SipResolver::create(uv_loop_t* loop, std::vector<std::string> servers,
                                                         const Clock& clock, Settings settings) {
    DnsClient::Options options;
    options.servers = std::move(servers);
    auto client = DnsClient::create(loop, std::move(options));
    if (!client) return client.error();
    std::unique_ptr<DnsClient> owned = std::move(*client);
    auto resolver = std::make_unique<SipResolver>(*owned, clock, settings);
    resolver->ownedDns_ = std::move(owned);
    return resolver;
}

std::string SipResolver::keyOf(const ResolveRequest& request) {
    std::string key;
    key.reserve(request.host.size() + 24);
    for (char c : request.host) key.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
    if (!key.empty() && key.back() == '.') key.pop_back();
    key += request.hostIsIpLiteral ? "|ip|" : "|name|";
    if (request.port) key += std::to_string(*request.port);
    key += '|';
    if (request.transport) key += txn::transportName(*request.transport);
    key += request.secure ? "|sips" : "|sip";
    return key;
}

void SipResolver::setReadyListener(std::function<void()> onResolved) { readyListener_ = std::move(onResolved); }

std::size_t SipResolver::runningResolutions() const noexcept {
    return static_cast<std::size_t>(
        std::count_if(entries_.begin(), entries_.end(), [](const auto& kv) { return kv.second.running != nullptr; }));
}

void SipResolver::clear() {
    for (auto it = entries_.begin(); it != entries_.end();) {
        if (it->second.running) {
            it->second.set.reset();
            it->second.error.clear();
            ++it;
        } else {
            it = entries_.erase(it);
        }
    }
}

SipResolver::Lookup SipResolver::lookup(const ResolveRequest& request) {
    ++counters_.lookups;
    const std::string key = keyOf(request);
    const TimePoint now = clock_.now();
    auto [it, fresh] = entries_.try_emplace(key);
    Entry& entry = it->second;
    if (entry.set) {
        ++counters_.cacheHits;
        auto set = entry.set;
        if (now >= entry.expires && !entry.running) {
            ++counters_.refreshes;
            startResolution(key, entry, request);
        }
        return Lookup{Lookup::Status::Ready, std::move(set), {}};
    }
    if (entry.running) return Lookup{Lookup::Status::Pending, nullptr, {}};
    if (!fresh && !entry.error.empty() && now < entry.expires) {
        ++counters_.cacheHits;
        return Lookup{Lookup::Status::Failed, nullptr, entry.error};
    }
    startResolution(key, entry, request);
    if (entry.running) return Lookup{Lookup::Status::Pending, nullptr, {}};
    // Finished without DNS (an IP literal, or input that cannot be resolved at all).
    if (entry.set) return Lookup{Lookup::Status::Ready, entry.set, {}};
    return Lookup{Lookup::Status::Failed, nullptr, entry.error};
}

void SipResolver::startResolution(const std::string& key, Entry& entry, const ResolveRequest& request) {
    dns::ResolutionInput input;
    input.host = request.host;
    input.hostIsIpLiteral = request.hostIsIpLiteral;
    input.port = request.port;
    input.transport = request.transport;
    input.secure = request.secure;
    ++counters_.resolutions;
    entry.running = std::make_unique<Running>(std::move(input), nextGeneration_++);
    if (entry.running->machine.done()) {
        finish(entry, /*notify*/ false);
        return;
    }
    pump(key, entry);
}

void SipResolver::pump(const std::string& key, Entry& entry) {
    const uint64_t generation = entry.running->generation;
    for (dns::DnsQuestion& q : entry.running->machine.takeQueries()) {
        ++counters_.queries;
        std::weak_ptr<SipResolver*> weak = self_;
        const std::string name = q.name;
        const uint16_t type = q.type;
        dns_.query(std::move(q.name), type,
                   [weak, key, generation, name, type](Result<std::vector<uint8_t>> answer) {
                       auto self = weak.lock();
                       if (!self) return;
                       (*self)->onAnswer(key, generation, name, type, std::move(answer));
                   });
    }
}

void SipResolver::onAnswer(const std::string& key, uint64_t generation, const std::string& name, uint16_t type,
                           Result<std::vector<uint8_t>> answer) {
    auto it = entries_.find(key);
    if (it == entries_.end() || !it->second.running || it->second.running->generation != generation) return;
    Entry& entry = it->second;
    dns::SipResolution& machine = entry.running->machine;
    const dns::DnsQuestion question{name, type};
    if (!answer) {
        machine.onFailure(question, answer.error().message);
    } else if (auto parsed = dns::parseDnsResponse(*answer); !parsed) {
        machine.onFailure(question, "malformed DNS response: " + parsed.error().message);
    } else {
        machine.onAnswer(question, *parsed);
    }
    if (machine.done()) {
        finish(entry, /*notify*/ true);
    } else {
        pump(key, entry);
    }
}

Duration SipResolver::clampTtl(uint32_t seconds) const {
    const Duration ttl{static_cast<int64_t>(seconds) * 1000};
    return std::clamp(ttl, settings_.minTtl, std::max(settings_.minTtl, settings_.maxTtl));
}

void SipResolver::finish(Entry& entry, bool notify) {
    const std::unique_ptr<Running> running = std::move(entry.running);
    const Result<dns::ResolvedSet>& result = running->machine.result();
    const TimePoint now = clock_.now();
    if (result.ok()) {
        entry.set = std::make_shared<const dns::ResolvedSet>(result.value());
        entry.expires = now + clampTtl(result->ttlSeconds);
        entry.error.clear();
    } else {
        ++counters_.failures;
        // A stale set stays in use (retried after negativeTtl); without one the error is reported.
        entry.error = result.error().message;
        entry.expires = now + settings_.negativeTtl;
    }
    if (notify && readyListener_) {
        // The listener may call lookup() or even destroy this resolver; nothing runs after it.
        auto listener = readyListener_;
        listener();
    }
}

}  // namespace sipreg::net
