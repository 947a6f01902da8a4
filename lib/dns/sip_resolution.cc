#include "dns/sip_resolution.h"

#include <arpa/inet.h>

#include <algorithm>

namespace sipreg::dns {

namespace {

using txn::TransportKind;

// The life given to a resolution that needed no DNS; it never changes.
constexpr uint32_t kLiteralTtlSeconds = 86400;

std::string lowerCase(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

std::optional<ResolvedAddress> parseIpLiteral(std::string_view host) {
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (host.empty() || host.size() >= INET6_ADDRSTRLEN) return std::nullopt;
    const std::string text(host);
    ResolvedAddress a;
    if (inet_pton(AF_INET, text.c_str(), a.bytes.data()) == 1) return a;
    if (inet_pton(AF_INET6, text.c_str(), a.bytes.data()) == 1) {
        a.ipv6 = true;
        return a;
    }
    return std::nullopt;
}

struct Matched {
    std::vector<const ResourceRecord*> records;
    uint32_t ttl = UINT32_MAX;  // smallest TTL of the records and of the CNAMEs leading to them
};

// The answer records of `type` for `name`, following a CNAME chain inside the answer.
Matched matchAnswers(const DnsResponse& response, std::string_view name, uint16_t type) {
    std::vector<std::string_view> names{name};
    Matched out;
    auto known = [&](std::string_view n) {
        return std::any_of(names.begin(), names.end(), [&](std::string_view k) { return sameName(k, n); });
    };
    for (std::size_t step = 0; step < kMaxCnameChain; ++step) {
        bool grew = false;
        for (const ResourceRecord& rr : response.answers) {
            if (rr.type != kTypeCname || !known(rr.name)) continue;
            const auto& target = std::get<CnameData>(rr.data).target;
            if (known(target)) continue;
            names.push_back(target);
            out.ttl = std::min(out.ttl, rr.ttl);
            grew = true;
        }
        if (!grew) break;
    }
    for (const ResourceRecord& rr : response.answers) {
        if (rr.type == type && known(rr.name)) {
            out.records.push_back(&rr);
            out.ttl = std::min(out.ttl, rr.ttl);
        }
    }
    return out;
}

std::optional<TransportKind> naptrTransport(std::string_view service) {
    const std::string s = lowerCase(service);
    if (s == "sip+d2u") return TransportKind::Udp;
    if (s == "sip+d2t") return TransportKind::Tcp;
    if (s == "sips+d2t") return TransportKind::Tls;
    return std::nullopt;  // SCTP, WebSocket and anything else: not ours
}

std::string srvName(TransportKind t, std::string_view host) {
    switch (t) {
        case TransportKind::Udp: return "_sip._udp." + std::string(host);
        case TransportKind::Tcp: return "_sip._tcp." + std::string(host);
        case TransportKind::Tls: return "_sips._tcp." + std::string(host);
    }
    return std::string(host);
}

std::string questionText(const DnsQuestion& q) { return typeName(q.type) + ' ' + q.name; }

bool isUsableRcode(uint8_t rcode) { return rcode == kRcodeNoError || rcode == kRcodeNxDomain; }

}  // namespace

uint16_t defaultPort(txn::TransportKind transport) noexcept {
    return transport == TransportKind::Tls ? kDefaultSipsPort : kDefaultSipPort;
}

SipResolution::SipResolution(ResolutionInput input) : in_(std::move(input)) {
    if (in_.host.size() > 1 && in_.host.back() == '.') in_.host.pop_back();
    start();
}

void SipResolution::start() {
    if (in_.host.empty()) return finishError("cannot resolve an empty host");
    if (in_.secure && in_.transport) {
        // RFC 3261 26.2: a SIPS URI means TLS; transport=tcp asks for TLS over TCP.
        if (*in_.transport == TransportKind::Udp) return finishError("sips:" + in_.host + " cannot use UDP");
        in_.transport = TransportKind::Tls;
    }
    const auto literal = parseIpLiteral(in_.host);
    if (in_.hostIsIpLiteral && !literal) return finishError("'" + in_.host + "' is not an IP address");
    if (literal) {
        ResolvedTarget t;
        t.transport = in_.transport.value_or(in_.secure ? TransportKind::Tls : TransportKind::Udp);
        t.port = in_.port.value_or(defaultPort(t.transport));
        t.host = in_.host;
        t.addresses.push_back(*literal);
        ResolvedSet set;
        set.targets.push_back(std::move(t));
        ttl_ = kLiteralTtlSeconds;
        return finishOk(std::move(set));
    }
    if (in_.port) return startHostAddresses();
    if (in_.transport) {
        std::vector<SrvQuery> queries;
        queries.emplace_back(DnsQuestion{srvName(*in_.transport, in_.host), kTypeSrv}, *in_.transport, 0);
        return startSrv(std::move(queries));
    }
    phase_ = Phase::Naptr;
    ask(DnsQuestion{in_.host, kTypeNaptr});
}

std::vector<DnsQuestion> SipResolution::takeQueries() { return std::exchange(outbox_, {}); }

void SipResolution::ask(DnsQuestion q) {
    waiting_.push_back(q);
    outbox_.push_back(std::move(q));
    outstanding_ = waiting_.size();
}

void SipResolution::note(std::string text) { notes_.push_back(std::move(text)); }

void SipResolution::useTtl(uint32_t ttl) noexcept { ttl_ = std::min(ttl_, ttl); }

void SipResolution::finishOk(ResolvedSet set) {
    set.ttlSeconds = ttl_;
    result_.emplace(std::move(set));
    outbox_.clear();
    waiting_.clear();
    outstanding_ = 0;
}

void SipResolution::finishError(std::string why) {
    std::string text = std::move(why);
    for (std::size_t i = 0; i < notes_.size(); ++i) text += (i == 0 ? ": " : "; ") + notes_[i];
    result_.emplace(makeError(std::move(text)));
    outbox_.clear();
    waiting_.clear();
    outstanding_ = 0;
}

void SipResolution::onAnswer(const DnsQuestion& question, const DnsResponse& response) {
    if (done()) return;
    auto it = std::find_if(waiting_.begin(), waiting_.end(), [&](const DnsQuestion& w) {
        return w.type == question.type && sameName(w.name, question.name);
    });
    if (it == waiting_.end()) return;
    if (!isUsableRcode(response.rcode)) return onFailure(question, rcodeName(response.rcode));
    const DnsQuestion q = *it;
    waiting_.erase(it);
    outstanding_ = waiting_.size();

    Matched m = matchAnswers(response, q.name, q.type);
    if (m.records.empty()) {
        note(questionText(q) + ": " + (response.rcode == kRcodeNxDomain ? "NXDOMAIN" : "no records"));
    }
    switch (phase_) {
        case Phase::Naptr:
            afterNaptr(&response);
            return;
        case Phase::Srv: {
            for (SrvQuery& s : srv_) {
                if (s.question.type != q.type || !sameName(s.question.name, q.name)) continue;
                s.answered = true;
                s.ttl = m.ttl;
                for (const ResourceRecord* rr : m.records) s.records.push_back(std::get<SrvData>(rr->data));
            }
            if (waiting_.empty()) afterSrv();
            return;
        }
        case Phase::Address: {
            HostAddresses& h = hosts_[lowerCase(q.name)];
            for (const ResourceRecord* rr : m.records) {
                const auto& a = std::get<AddressData>(rr->data);
                const ResolvedAddress addr{a.bytes, a.ipv6};
                auto& list = a.ipv6 ? h.v6 : h.v4;
                if (std::find(list.begin(), list.end(), addr) == list.end()) list.push_back(addr);
            }
            if (!m.records.empty()) h.ttl = std::min(h.ttl, m.ttl);
            if (waiting_.empty()) afterAddresses();
            return;
        }
    }
}

void SipResolution::onFailure(const DnsQuestion& question, std::string_view reason) {
    if (done()) return;
    auto it = std::find_if(waiting_.begin(), waiting_.end(), [&](const DnsQuestion& w) {
        return w.type == question.type && sameName(w.name, question.name);
    });
    if (it == waiting_.end()) return;
    const DnsQuestion q = *it;
    waiting_.erase(it);
    outstanding_ = waiting_.size();
    note(questionText(q) + ": " + std::string(reason));
    switch (phase_) {
        case Phase::Naptr:
            // NAPTR only refines the choice of transport; SRV still works without it.
            afterNaptr(nullptr);
            return;
        case Phase::Srv:
            for (SrvQuery& s : srv_) {
                if (s.question.type == q.type && sameName(s.question.name, q.name)) s.failed = true;
            }
            if (waiting_.empty()) afterSrv();
            return;
        case Phase::Address:
            if (waiting_.empty()) afterAddresses();
            return;
    }
}

void SipResolution::afterNaptr(const DnsResponse* response) {
    struct Choice {
        const NaptrData* naptr;
        TransportKind transport;
        uint32_t ttl;
    };
    std::vector<Choice> choices;
    if (response != nullptr) {
        for (const ResourceRecord* rr : matchAnswers(*response, in_.host, kTypeNaptr).records) {
            const auto& n = std::get<NaptrData>(rr->data);
            const auto t = naptrTransport(n.service);
            // RFC 3263 4.1: SIP NAPTRs carry flag "s", an empty regexp and the SRV name.
            if (!t || lowerCase(n.flags) != "s" || !n.regexp.empty() || n.replacement.empty()) continue;
            if (in_.secure && *t != TransportKind::Tls) continue;
            choices.push_back(Choice{&n, *t, rr->ttl});
        }
    }
    std::stable_sort(choices.begin(), choices.end(), [](const Choice& a, const Choice& b) {
        if (a.naptr->order != b.naptr->order) return a.naptr->order < b.naptr->order;
        return a.naptr->preference < b.naptr->preference;
    });
    std::vector<SrvQuery> queries;
    for (const Choice& c : choices) {
        const bool seen = std::any_of(queries.begin(), queries.end(), [&](const SrvQuery& q) {
            return q.transport == c.transport && sameName(q.question.name, c.naptr->replacement);
        });
        if (seen) continue;
        useTtl(c.ttl);
        queries.emplace_back(DnsQuestion{c.naptr->replacement, kTypeSrv}, c.transport, queries.size());
    }
    if (!queries.empty()) {
        srvFromNaptr_ = true;
        return startSrv(std::move(queries));
    }
    if (response != nullptr && !choices.empty()) note("NAPTR " + in_.host + ": no usable SIP service");
    const TransportKind order[] = {TransportKind::Tls, TransportKind::Tcp, TransportKind::Udp};
    for (TransportKind t : order) {
        if (in_.secure && t != TransportKind::Tls) continue;
        queries.emplace_back(DnsQuestion{srvName(t, in_.host), kTypeSrv}, t, queries.size());
    }
    startSrv(std::move(queries));
}

void SipResolution::startSrv(std::vector<SrvQuery> queries) {
    phase_ = Phase::Srv;
    srv_ = std::move(queries);
    for (const SrvQuery& q : srv_) ask(q.question);
}

void SipResolution::afterSrv() {
    std::vector<ResolvedTarget> targets;
    bool anyFailed = false;
    bool anyUnavailable = false;
    for (const SrvQuery& s : srv_) {
        if (s.failed) anyFailed = true;
        bool used = false;
        for (const SrvData& r : s.records) {
            if (r.target.empty()) {
                anyUnavailable = true;  // RFC 2782: target "." means no such service here
                continue;
            }
            if (targets.size() >= kMaxSrvTargets) break;
            ResolvedTarget t;
            t.transport = s.transport;
            t.priority = r.priority;
            t.weight = r.weight;
            t.port = r.port;
            t.rank = s.rank;
            t.host = r.target;
            targets.push_back(std::move(t));
            used = true;
        }
        if (used) useTtl(s.ttl);
    }
    if (!targets.empty()) return startAddresses(std::move(targets));
    if (anyFailed) return finishError("cannot resolve " + in_.host + " (SRV lookup failed)");
    if (anyUnavailable) return finishError("SIP service not available at " + in_.host + " (SRV target \".\")");
    // RFC 3263 4.2: no SRV records, so the host itself with the transport's default port.
    startHostAddresses();
}

void SipResolution::startHostAddresses() {
    ResolvedTarget t;
    t.transport = in_.transport.value_or(in_.secure ? TransportKind::Tls : TransportKind::Udp);
    t.port = in_.port.value_or(defaultPort(t.transport));
    t.host = in_.host;
    std::vector<ResolvedTarget> targets;
    targets.push_back(std::move(t));
    startAddresses(std::move(targets));
}

void SipResolution::startAddresses(std::vector<ResolvedTarget> targets) {
    phase_ = Phase::Address;
    targets_ = std::move(targets);
    for (const ResolvedTarget& t : targets_) {
        auto [it, fresh] = hosts_.try_emplace(lowerCase(t.host));
        if (!fresh) continue;
        ask(DnsQuestion{t.host, kTypeA});
        ask(DnsQuestion{t.host, kTypeAaaa});
    }
}

void SipResolution::afterAddresses() {
    ResolvedSet set;
    for (ResolvedTarget& t : targets_) {
        const HostAddresses& h = hosts_[lowerCase(t.host)];
        t.addresses = h.v4;
        t.addresses.insert(t.addresses.end(), h.v6.begin(), h.v6.end());
        if (t.addresses.empty()) continue;
        useTtl(h.ttl);
        set.targets.push_back(std::move(t));
    }
    targets_.clear();
    if (set.targets.empty()) return finishError("no address for " + in_.host);
    finishOk(std::move(set));
}

}  // namespace sipreg::dns
