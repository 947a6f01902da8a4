#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "crypto/hash.h"

using sipreg::crypto::digestSize;
using sipreg::crypto::HashAlgorithm;
using sipreg::crypto::Hasher;
using sipreg::crypto::hashHex;

namespace {

std::string hex(HashAlgorithm algorithm, std::string_view data) {
    auto r = hashHex(algorithm, data);
    REQUIRE(r.ok());
    return r.value();
}

}  // namespace

// Published digests of "abc" and "": RFC 1321 A.5, FIPS 180-4 examples (SHA-256, SHA-512/256).
TEST_CASE("MD5 matches RFC 1321 test suite") {
    CHECK(hex(HashAlgorithm::Md5, "") == "d41d8cd98f00b204e9800998ecf8427e");
    CHECK(hex(HashAlgorithm::Md5, "abc") == "900150983cd24fb0d6963f7d28e17f72");
}

TEST_CASE("SHA-256 matches FIPS 180-4 examples") {
    CHECK(hex(HashAlgorithm::Sha256, "abc") ==
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(hex(HashAlgorithm::Sha256, "") ==
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("SHA-512/256 is the FIPS variant, not truncated SHA-512") {
    CHECK(hex(HashAlgorithm::Sha512_256, "abc") ==
          "53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23");
    // Truncated SHA-512("abc") starts with ddaf35a1; the real SHA-512/256 must differ.
    CHECK(hex(HashAlgorithm::Sha512_256, "abc").rfind("ddaf35a1", 0) == std::string::npos);
}

TEST_CASE("hex output is lowercase and twice the digest size") {
    for (auto algorithm : {HashAlgorithm::Md5, HashAlgorithm::Sha256, HashAlgorithm::Sha512_256}) {
        const std::string h = hex(algorithm, "x");
        CHECK(h.size() == 2 * digestSize(algorithm));
        for (char c : h) CHECK(((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')));
    }
}

TEST_CASE("incremental hashing equals one-shot hashing") {
    for (auto algorithm : {HashAlgorithm::Md5, HashAlgorithm::Sha256, HashAlgorithm::Sha512_256}) {
        Hasher hasher(algorithm);
        const std::vector<uint8_t> tail{'l', 'm'};
        hasher.update("Jäsøn Doe").update(":").update("").update("rea").update(tail);
        auto r = hasher.finishHex();
        REQUIRE(r.ok());
        CHECK(r.value() == hex(algorithm, "Jäsøn Doe:realm"));
    }
}

TEST_CASE("a finished hasher reports an error instead of hashing again") {
    Hasher hasher(HashAlgorithm::Sha256);
    REQUIRE(hasher.update("a").finishHex().ok());
    auto again = hasher.update("b").finishHex();
    REQUIRE_FALSE(again.ok());
    CHECK(again.error().message.find("finished") != std::string::npos);
}
