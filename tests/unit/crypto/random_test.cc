#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdint>
#include <set>
#include <string>

#include "crypto/random_source.h"
#include "crypto/random_token.h"

using namespace sipreg::crypto;

TEST_CASE("DeterministicRandomSource repeats for the same seed and differs for another") {
    DeterministicRandomSource a(42), b(42), c(43);
    std::array<uint8_t, 37> x{}, y{}, z{};
    a.fill(x);
    b.fill(y);
    c.fill(z);
    CHECK(x == y);
    CHECK(x != z);
    CHECK(a.fillCount() == 1);
}

TEST_CASE("DeterministicRandomSource continues its stream between calls") {
    DeterministicRandomSource src(7);
    std::array<uint8_t, 16> first{}, second{};
    src.fill(first);
    src.fill(second);
    CHECK(first != second);
    CHECK(src.fillCount() == 2);
}

TEST_CASE("OpenSslRandomSource produces different values on every call") {
    OpenSslRandomSource src;
    std::set<std::string> seen;
    for (int i = 0; i < 64; ++i) seen.insert(randomToken(src, 16));
    CHECK(seen.size() == 64);
    std::array<uint8_t, 32> zero{}, buf{};
    src.fill(buf);
    CHECK(buf != zero);
}

TEST_CASE("randomToken length and alphabet per encoding") {
    DeterministicRandomSource src(1);
    const std::string hexToken = randomToken(src, 16);
    CHECK(hexToken.size() == 32);
    CHECK(hexToken.find_first_not_of("0123456789abcdef") == std::string::npos);

    const std::string b64 = randomToken(src, 16, TokenEncoding::Base64Url);
    CHECK(b64.size() == 22);
    CHECK(b64.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
          std::string::npos);
    CHECK(src.fillCount() == 2);
}

TEST_CASE("randomToken draws its bytes from the injected source") {
    DeterministicRandomSource a(99), b(99);
    std::array<uint8_t, 4> raw{};
    b.fill(raw);
    char expected[9];
    std::snprintf(expected, sizeof expected, "%02x%02x%02x%02x", raw[0], raw[1], raw[2], raw[3]);
    CHECK(randomToken(a, 4) == std::string(expected));
}

TEST_CASE("OpenSslRandomSource gives distinct bytes across its block refills, for small and large requests") {
    OpenSslRandomSource src;
    std::set<std::string> seen;
    // 16-byte draws cross the internal block boundary several times.
    const std::size_t draws = 4 * OpenSslRandomSource::kBlockBytes / 16 + 3;
    for (std::size_t i = 0; i < draws; ++i) seen.insert(randomToken(src, 16));
    // Odd sizes leave partial blocks behind.
    for (std::size_t i = 0; i < 100; ++i) seen.insert(randomToken(src, 7 + (i % 13)));
    // Larger than the block: drawn directly.
    seen.insert(randomToken(src, 2 * OpenSslRandomSource::kBlockBytes));
    seen.insert(randomToken(src, 2 * OpenSslRandomSource::kBlockBytes));
    CHECK(seen.size() == draws + 100 + 2);
    std::array<uint8_t, 3 * OpenSslRandomSource::kBlockBytes> big{};
    src.fill(big);
    const std::size_t zeros = static_cast<std::size_t>(std::count(big.begin(), big.end(), uint8_t{0}));
    CHECK(zeros < big.size() / 32);  // about 1/256 expected
}
