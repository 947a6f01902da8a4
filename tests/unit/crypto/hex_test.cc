#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "crypto/hex.h"

using namespace sipreg::crypto;

namespace {

std::vector<uint8_t> bytesOf(std::string_view s) {
    return std::vector<uint8_t>(s.begin(), s.end());
}

}  // namespace

TEST_CASE("toHex encodes every byte value in lowercase") {
    CHECK(toHex(std::vector<uint8_t>{}) == "");
    CHECK(toHex(std::vector<uint8_t>{0x00, 0x0f, 0xa5, 0xff}) == "000fa5ff");
}

TEST_CASE("toBase64Url matches RFC 4648 section 10 vectors without padding") {
    CHECK(toBase64Url(bytesOf("")) == "");
    CHECK(toBase64Url(bytesOf("f")) == "Zg");
    CHECK(toBase64Url(bytesOf("fo")) == "Zm8");
    CHECK(toBase64Url(bytesOf("foo")) == "Zm9v");
    CHECK(toBase64Url(bytesOf("foob")) == "Zm9vYg");
    CHECK(toBase64Url(bytesOf("fooba")) == "Zm9vYmE");
    CHECK(toBase64Url(bytesOf("foobar")) == "Zm9vYmFy");
}

TEST_CASE("toBase64Url uses the URL-safe alphabet") {
    // Standard base64 of fb ff is "+/8="; section 5 replaces + and / and drops padding.
    CHECK(toBase64Url(std::vector<uint8_t>{0xfb, 0xff}) == "-_8");
}

TEST_CASE("isHex and toLowerHex") {
    CHECK(isHex("09afAF"));
    CHECK_FALSE(isHex(""));
    CHECK_FALSE(isHex("12g4"));
    CHECK_FALSE(isHex("12 4"));
    CHECK(toLowerHex("ABcdEF09") == "abcdef09");
}

TEST_CASE("secureWipe empties the secret") {
    std::string secret = "Circle Of Life";
    secureWipe(secret);
    CHECK(secret.empty());
}
