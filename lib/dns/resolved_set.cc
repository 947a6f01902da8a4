#include "dns/resolved_set.h"

#include <arpa/inet.h>

#include "dns/srv_order.h"

namespace sipreg::dns {

std::vector<txn::Peer> orderPeers(const ResolvedSet& set, crypto::RandomSource& random, bool allowIpv6,
                                  bool allowIpv4) {
    std::vector<SrvCandidate> candidates;
    candidates.reserve(set.targets.size());
    for (const ResolvedTarget& t : set.targets) {
        candidates.push_back(SrvCandidate{(static_cast<uint32_t>(t.rank) << 16) | t.priority, t.weight});
    }
    std::vector<txn::Peer> peers;
    for (std::size_t index : orderSrvCandidates(candidates, random)) {
        const ResolvedTarget& t = set.targets[index];
        for (const ResolvedAddress& a : t.addresses) {
            if (a.ipv6 ? !allowIpv6 : !allowIpv4) continue;
            txn::Peer p;
            p.address = a.bytes;
            p.ipv6 = a.ipv6;
            p.port = t.port;
            p.transport = t.transport;
            peers.push_back(p);
        }
    }
    return peers;
}

std::string addressText(const ResolvedAddress& address) {
    char buf[INET6_ADDRSTRLEN] = {};
    if (inet_ntop(address.ipv6 ? AF_INET6 : AF_INET, address.bytes.data(), buf, sizeof buf) == nullptr) return "?";
    return buf;
}

std::string describe(const ResolvedSet& set) {
    std::string out;
    for (const ResolvedTarget& t : set.targets) {
        if (!out.empty()) out += '\n';
        std::string name(txn::transportName(t.transport));
        for (char& c : name) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
        out += name + ' ' + t.host + ':' + std::to_string(t.port) + " prio " + std::to_string(t.priority) +
               " weight " + std::to_string(t.weight) + " [";
        for (std::size_t i = 0; i < t.addresses.size(); ++i) {
            if (i != 0) out += ", ";
            out += addressText(t.addresses[i]);
        }
        out += ']';
    }
    return out;
}

}  // namespace sipreg::dns
