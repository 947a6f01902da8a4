#include <doctest/doctest.h>

#include <algorithm>
#include <map>

#include "crypto/random_source.h"
#include "dns/resolved_set.h"
#include "dns/srv_order.h"

using namespace sipreg;
using namespace sipreg::dns;

namespace {

bool isPermutation(const std::vector<std::size_t>& order, std::size_t n) {
    std::vector<std::size_t> sorted = order;
    std::sort(sorted.begin(), sorted.end());
    for (std::size_t i = 0; i < n; ++i) {
        if (sorted.size() != n || sorted[i] != i) return false;
    }
    return true;
}

ResolvedTarget target(txn::TransportKind t, uint16_t prio, uint16_t weight, uint16_t port, uint8_t lastByte,
                      uint16_t rank = 0) {
    ResolvedTarget out;
    out.transport = t;
    out.priority = prio;
    out.weight = weight;
    out.port = port;
    out.rank = rank;
    out.host = "h" + std::to_string(lastByte);
    ResolvedAddress a;
    a.bytes = {192, 0, 2, lastByte};
    out.addresses.push_back(a);
    return out;
}

}  // namespace

TEST_CASE("lower priority always comes first") {
    const std::vector<SrvCandidate> c{{20, 100}, {10, 1}, {30, 0}, {10, 50}};
    crypto::DeterministicRandomSource random(1);
    for (int i = 0; i < 200; ++i) {
        const auto order = orderSrvCandidates(c, random);
        REQUIRE(isPermutation(order, c.size()));
        CHECK(c[order[0]].priority == 10);
        CHECK(c[order[1]].priority == 10);
        CHECK(order[2] == 0);
        CHECK(order[3] == 2);
    }
}

TEST_CASE("within a priority the first pick follows the weights") {
    const std::vector<SrvCandidate> c{{1, 10}, {1, 30}, {1, 60}};
    crypto::DeterministicRandomSource random(42);
    std::map<std::size_t, int> first;
    constexpr int kRuns = 20000;
    for (int i = 0; i < kRuns; ++i) ++first[orderSrvCandidates(c, random)[0]];
    // Expected shares 10/100, 30/100, 60/100 (the inclusive draw adds ~1/101 noise).
    CHECK(first[0] == doctest::Approx(kRuns * 0.10).epsilon(0.15));
    CHECK(first[1] == doctest::Approx(kRuns * 0.30).epsilon(0.06));
    CHECK(first[2] == doctest::Approx(kRuns * 0.60).epsilon(0.04));
}

TEST_CASE("the second pick is weighted among those left") {
    // After the weight-60 entry is taken first, 10 vs 30 decides the second place.
    const std::vector<SrvCandidate> c{{1, 10}, {1, 30}, {1, 60}};
    crypto::DeterministicRandomSource random(5);
    int afterBig = 0;
    int thirtySecond = 0;
    for (int i = 0; i < 20000; ++i) {
        const auto order = orderSrvCandidates(c, random);
        if (order[0] != 2) continue;
        ++afterBig;
        if (order[1] == 1) ++thirtySecond;
    }
    REQUIRE(afterBig > 1000);
    CHECK(static_cast<double>(thirtySecond) / afterBig == doctest::Approx(0.75).epsilon(0.05));
}

TEST_CASE("weight 0 entries come after weighted ones almost always") {
    const std::vector<SrvCandidate> c{{1, 0}, {1, 100}, {1, 0}, {1, 100}};
    crypto::DeterministicRandomSource random(9);
    int zeroFirst = 0;
    constexpr int kRuns = 10000;
    for (int i = 0; i < kRuns; ++i) {
        const auto order = orderSrvCandidates(c, random);
        if (c[order[0]].weight == 0) ++zeroFirst;
    }
    // RFC 2782 draws from [0, sum]: a zero-weight entry wins only on a draw of exactly 0.
    CHECK(zeroFirst < kRuns / 100);
}

TEST_CASE("all-zero weights spread evenly over the targets") {
    const std::vector<SrvCandidate> c{{1, 0}, {1, 0}, {1, 0}, {1, 0}};
    crypto::DeterministicRandomSource random(3);
    std::map<std::size_t, int> first;
    constexpr int kRuns = 8000;
    for (int i = 0; i < kRuns; ++i) ++first[orderSrvCandidates(c, random)[0]];
    for (std::size_t i = 0; i < c.size(); ++i) CHECK(first[i] == doctest::Approx(kRuns / 4.0).epsilon(0.1));
}

TEST_CASE("randomBelow stays in range and covers it") {
    crypto::DeterministicRandomSource random(11);
    std::vector<int> seen(7, 0);
    for (int i = 0; i < 7000; ++i) {
        const uint64_t v = randomBelow(7, random);
        REQUIRE(v < 7);
        ++seen[v];
    }
    for (int n : seen) CHECK(n == doctest::Approx(1000).epsilon(0.15));
    CHECK(randomBelow(1, random) == 0);
    CHECK(randomBelow(0, random) == 0);
}

TEST_CASE("orderPeers flattens targets by rank, then priority, with every address") {
    ResolvedSet set;
    set.targets.push_back(target(txn::TransportKind::Udp, 1, 0, 5060, 30, /*rank*/ 2));
    set.targets.push_back(target(txn::TransportKind::Tcp, 5, 0, 5070, 20, 1));
    set.targets.push_back(target(txn::TransportKind::Tcp, 1, 0, 5080, 10, 1));
    ResolvedAddress v6;
    v6.ipv6 = true;
    v6.bytes[15] = 1;
    set.targets[2].addresses.push_back(v6);

    crypto::DeterministicRandomSource random(1);
    const auto peers = orderPeers(set, random);
    REQUIRE(peers.size() == 4);
    CHECK(peers[0].port == 5080);
    CHECK(peers[0].transport == txn::TransportKind::Tcp);
    CHECK_FALSE(peers[0].ipv6);
    CHECK(peers[0].address[3] == 10);
    CHECK(peers[1].port == 5080);
    CHECK(peers[1].ipv6);
    CHECK(peers[1].address[15] == 1);
    CHECK(peers[2].port == 5070);
    CHECK(peers[3].port == 5060);
    CHECK(peers[3].transport == txn::TransportKind::Udp);

    const auto onlyV4 = orderPeers(set, random, /*allowIpv6*/ false, true);
    CHECK(onlyV4.size() == 3);
    const auto onlyV6 = orderPeers(set, random, true, /*allowIpv4*/ false);
    REQUIRE(onlyV6.size() == 1);
    CHECK(onlyV6[0].ipv6);
}

TEST_CASE("orderPeers spreads callers over equal targets by weight") {
    ResolvedSet set;
    set.targets.push_back(target(txn::TransportKind::Udp, 10, 10, 5060, 1));
    set.targets.push_back(target(txn::TransportKind::Udp, 10, 30, 5060, 2));
    crypto::DeterministicRandomSource random(77);
    int second = 0;
    constexpr int kLines = 4000;
    for (int i = 0; i < kLines; ++i) {
        if (orderPeers(set, random)[0].address[3] == 2) ++second;
    }
    // 30/40, nudged to 30.5/41 by RFC 2782's inclusive draw.
    CHECK(second == doctest::Approx(kLines * 0.744).epsilon(0.04));
}

TEST_CASE("describe names each target and its addresses") {
    ResolvedSet set;
    set.targets.push_back(target(txn::TransportKind::Tls, 10, 60, 5061, 9));
    const std::string text = describe(set);
    CHECK(text == "tls h9:5061 prio 10 weight 60 [192.0.2.9]");
}
