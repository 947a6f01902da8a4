#include <doctest/doctest.h>

#include <string>

#include "app/sip_log.h"

using namespace sipreg;

TEST_CASE("SIP messages in logs never carry digest responses, nonces or cnonces") {
    const std::string msg =
        "REGISTER sip:example.com SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n"
        "authorization: Digest username=\"alice\", realm=\"example.com\", nonce=\"n0nce-secret\",\r\n"
        "  uri=\"sip:example.com\", response=\"0123456789abcdef0123456789abcdef\", cnonce=\"c-secret\"\r\n"
        "Proxy-Authorization : Digest username=\"bob\", response=\"fedcba9876543210\"\r\n"
        "Content-Length: 0\r\n"
        "\r\n";
    const std::string out = app::redactForLog(msg);
    CHECK(out.find("0123456789abcdef0123456789abcdef") == std::string::npos);
    CHECK(out.find("fedcba9876543210") == std::string::npos);
    CHECK(out.find("n0nce-secret") == std::string::npos);
    CHECK(out.find("c-secret") == std::string::npos);
    CHECK(out.find("username=\"alice\"") != std::string::npos);
    CHECK(out.find("username=\"bob\"") != std::string::npos);
    CHECK(out.find("Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n") != std::string::npos);
    CHECK(out.find("Content-Length: 0\r\n\r\n") != std::string::npos);
}

TEST_CASE("a body that looks like a header is left alone") {
    const std::string msg = "MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 22\r\n\r\nAuthorization: nothing";
    CHECK(app::redactForLog(msg) == msg);
}
