// libFuzzer target: parseDnsResponse on the packet, then an RFC 3263 resolution of
// "example.test" that gets this same packet as the answer to every question it asks (the
// packet's id picks which kind of target: no hints, a transport, sips:, or a port), so
// hostile NAPTR, SRV, CNAME and address records flow through every step. A successful
// resolution must honour its documented promises: at least one target, and TLS only for sips:.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <variant>

#include "crypto/random_source.h"
#include "dns/dns_message.h"
#include "dns/resolved_set.h"
#include "dns/sip_resolution.h"

using namespace sipreg;

namespace {

void touch(std::string_view v) {
    volatile unsigned char sink = 0;
    for (char c : v) sink = sink ^ static_cast<unsigned char>(c);
    (void)sink;
}

void touchRecord(const dns::ResourceRecord& rr) {
    touch(rr.name);
    touch(dns::typeName(rr.type));
    (void)dns::sameName(rr.name, "example.test");
    if (const auto* c = std::get_if<dns::CnameData>(&rr.data)) touch(c->target);
    if (const auto* s = std::get_if<dns::SrvData>(&rr.data)) touch(s->target);
    if (const auto* n = std::get_if<dns::NaptrData>(&rr.data)) {
        touch(n->flags);
        touch(n->service);
        touch(n->regexp);
        touch(n->replacement);
    }
}

dns::ResolutionInput inputFor(uint16_t id) {
    dns::ResolutionInput in;
    in.host = "example.test";
    switch (id % 4) {
        case 0: break;
        case 1: in.transport = txn::TransportKind::Tcp; break;
        case 2: in.secure = true; break;
        default: in.port = 5080; break;
    }
    return in;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto parsed = dns::parseDnsResponse(std::span<const uint8_t>(data, size));
    if (!parsed) {
        touch(parsed.error().message);
        return 0;
    }
    const dns::DnsResponse& response = *parsed;
    touch(response.questionName);
    touch(dns::rcodeName(response.rcode));
    for (const auto& rr : response.answers) touchRecord(rr);
    for (const auto& rr : response.additionals) touchRecord(rr);

    const dns::ResolutionInput in = inputFor(response.id);
    dns::SipResolution resolution(in);
    // Each round answers everything asked, so the resolution must either finish or ask more,
    // and its own limits (CNAME chain, SRV targets) must end it well within 64 rounds.
    for (int round = 0; !resolution.done(); ++round) {
        if (round == 64) __builtin_trap();
        const auto questions = resolution.takeQueries();
        if (questions.empty()) __builtin_trap();  // stuck: nothing asked, nothing decided
        for (const auto& q : questions) {
            // The rcode byte decides whether this question fails outright (timeout-like).
            if (response.rcode == dns::kRcodeServFail) resolution.onFailure(q, "server failure");
            else resolution.onAnswer(q, response);
        }
    }
    const auto& result = resolution.result();
    if (!result) {
        touch(result.error().message);
        return 0;
    }
    if (result->targets.empty()) __builtin_trap();
    for (const auto& t : result->targets) {
        if (in.secure && t.transport != txn::TransportKind::Tls) __builtin_trap();
        for (const auto& a : t.addresses) touch(dns::addressText(a));
    }
    touch(dns::describe(*result));
    crypto::DeterministicRandomSource random(response.id);
    (void)dns::orderPeers(*result, random);
    (void)dns::orderPeers(*result, random, false, true);
    return 0;
}
