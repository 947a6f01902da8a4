#include <doctest/doctest.h>

#include "reg/contact_match.h"
#include "support/sip_builders.h"

using namespace sipreg;

namespace {
sip::Uri uri(const char* text) { return sip::parseUri(text).value(); }
}  // namespace

TEST_CASE("our binding matches on scheme, user, host and port (RFC 3261 19.1.4)") {
    CHECK(reg::sameBinding(uri("sip:alice@192.0.2.10:5060"), uri("sip:alice@192.0.2.10:5060")));
    CHECK(reg::sameBinding(uri("sip:alice@Host.Example:5060"), uri("SIP:alice@host.example:5060")));
    CHECK(reg::sameBinding(uri("sip:%61lice@h:5060"), uri("sip:alice@h:5060")));
    CHECK_FALSE(reg::sameBinding(uri("sip:Alice@h:5060"), uri("sip:alice@h:5060")));
    CHECK_FALSE(reg::sameBinding(uri("sip:alice@h:5060"), uri("sip:alice@h:5070")));
    CHECK_FALSE(reg::sameBinding(uri("sip:alice@h:5060"), uri("sips:alice@h:5060")));
    CHECK_FALSE(reg::sameBinding(uri("sip:alice@h1:5060"), uri("sip:alice@h2:5060")));
    CHECK_FALSE(reg::sameBinding(uri("sip:bob@h:5060"), uri("sip:alice@h:5060")));
    CHECK(reg::sameBinding(uri("sip:alice@h"), uri("sip:alice@h:5060")));  // default port
    CHECK_FALSE(reg::sameBinding(uri("sip:alice@h;transport=tcp"), uri("sip:alice@h;transport=udp")));
    CHECK(reg::sameBinding(uri("sip:alice@h;transport=TCP"), uri("sip:alice@h;transport=tcp;ob")));
}

TEST_CASE("the expires of our Contact is found among several bindings") {
    auto m = test::parseSip(
        "SIP/2.0 200 OK\n"
        "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKx\n"
        "From: <sip:alice@example.com>;tag=a\n"
        "To: <sip:alice@example.com>;tag=b\n"
        "Call-ID: c\n"
        "CSeq: 1 REGISTER\n"
        "Contact: <sip:alice@198.51.100.7:5062>;expires=3000, <sip:alice@192.0.2.10:5060>;expires=590\n"
        "Contact: <sip:alice@192.0.2.99>;expires=10\n"
        "Content-Length: 0\n\n");
    auto list = sip::contacts(m).value();
    CHECK(reg::ourContactExpires(list, uri("sip:alice@192.0.2.10:5060")) == 590u);
    CHECK(reg::ourContactExpires(list, uri("sip:alice@192.0.2.99:5060")) == 10u);
    CHECK_FALSE(reg::ourContactExpires(list, uri("sip:alice@192.0.2.11:5060")).has_value());
}
