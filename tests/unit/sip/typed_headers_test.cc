#include <doctest/doctest.h>

#include <string>

#include "sip/typed_headers.h"
#include "sip/validate.h"
#include "sip_test_util.h"

using namespace sipreg::sip;
using sipreg::sip::test::contains;
using sipreg::sip::test::crlf;
using sipreg::sip::test::parseOk;

namespace {

std::string response(std::initializer_list<std::string_view> headers) {
    std::string out = "SIP/2.0 200 OK\r\n";
    for (auto h : headers) {
        out += h;
        out += "\r\n";
    }
    out += "\r\n";
    return out;
}

}  // namespace

TEST_CASE("Via: sent-by, transport, branch, received, rport") {
    Message m = parseOk(response({
        "Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKabc;received=198.51.100.7;rport=40000",
        "v: SIP/2.0/TCP proxy.example.com;branch=z9hG4bKdef;rport, SIP/2.0/TLS [2001:db8::5]:5061;branch=z9hG4bKghi",
    }));
    auto v = vias(m);
    REQUIRE(v.ok());
    REQUIRE(v->size() == 3);
    const Via& a = (*v)[0];
    CHECK(a.protocol == "SIP/2.0");
    CHECK(a.protocolName == "SIP");
    CHECK(a.protocolVersion == "2.0");
    CHECK(a.transport == "UDP");
    CHECK(a.host == "192.0.2.10");
    CHECK(*a.port == 5062);
    CHECK(a.branch() == "z9hG4bKabc");
    CHECK(*a.received() == "198.51.100.7");
    CHECK(a.hasRport());
    CHECK(*a.rport() == 40000);

    const Via& b = (*v)[1];
    CHECK(b.transport == "TCP");
    CHECK_FALSE(b.port.has_value());
    CHECK(b.hasRport());
    CHECK_FALSE(b.rport().has_value());
    CHECK_FALSE(b.received().has_value());

    const Via& c = (*v)[2];
    CHECK(c.hostIsIpv6);
    CHECK(c.host == "2001:db8::5");
    CHECK(*c.port == 5061);
    CHECK_FALSE(c.hasRport());
}

TEST_CASE("Via: LWS around '/' and folded lines") {
    Message m = parseOk(response({"Via  : SIP  /   2.0", " /UDP", "    192.0.2.2  ;  branch =  z9hG4bK1"}));
    auto v = vias(m);
    REQUIRE(v.ok());
    REQUIRE(v->size() == 1);
    CHECK((*v)[0].protocolName == "SIP");
    CHECK((*v)[0].protocolVersion == "2.0");
    CHECK((*v)[0].transport == "UDP");
    CHECK((*v)[0].host == "192.0.2.2");
    CHECK((*v)[0].branch() == "z9hG4bK1");
}

TEST_CASE("Via errors") {
    for (const char* bad : {"Via: SIP/2.0/UDP", "Via: SIP/2.0 host", "Via: SIP/2.0/UDP host;;branch=x",
                            "Via: SIP/2.0/UDP host;branch=", "Via: SIP/2.0/UDP host:70000",
                            "Via: SIP/2.0/UDP host;rport=99999", "Via: SIP/2.0/UDP [zz]",
                            "Via: SIP/2.0/UDP host,", "Via: SIP/2.0/UDP host junk", "Via: SIP/2.0/UDPhost"}) {
        INFO(std::string(bad));
        Message m = parseOk(response({bad}));
        auto v = vias(m);
        REQUIRE_FALSE(v.ok());
        CHECK(contains(v.error().message, "Via: "));
        CHECK(v.error().hasOffset());
    }
}

TEST_CASE("From/To: name-addr with quoted display name and escapes, tag") {
    Message m = parseOk(response({
        R"(From: "Alice \"The\" \\Great" <sip:alice@example.com;transport=tcp>;tag=88sja8x;x-flag)",
        "To: Bob Smith<sip:bob@example.com>",
    }));
    auto from = fromHeader(m);
    REQUIRE(from.ok());
    CHECK(from->displayName == R"(Alice "The" \Great)");
    CHECK(from->uri.user == "alice");
    CHECK(*from->uri.param("transport") == "tcp");
    CHECK(from->tag() == "88sja8x");
    REQUIRE(from->params.find("x-flag") != nullptr);
    CHECK_FALSE(from->params.find("x-flag")->hasValue);
    CHECK(from->uri.params == "transport=tcp");

    auto to = toHeader(m);
    REQUIRE(to.ok());
    CHECK(to->displayName == "Bob Smith");
    CHECK(to->uri.host == "example.com");
    CHECK(to->tag().empty());
}

TEST_CASE("addr-spec: parameters after the URI belong to the header (RFC 3261 20.10)") {
    auto na = parseNameAddr("sip:alice@example.com;tag=abc;transport=udp");
    REQUIRE(na.ok());
    CHECK(na->uri.params.empty());
    CHECK(na->tag() == "abc");
    CHECK(*na->params.unquoted("transport") == "udp");
    CHECK(na->displayName.empty());

    auto angled = parseNameAddr("<sip:alice@example.com;transport=udp>;tag=abc");
    REQUIRE(angled.ok());
    CHECK(angled->uri.params == "transport=udp");
    CHECK(angled->tag() == "abc");
    CHECK_FALSE(angled->params.has("transport"));
}

TEST_CASE("parseNameAddr errors") {
    for (const char* bad : {"", "   ", "\"unterminated <sip:a@b>", "\"name\" sip:a@b", "<sip:a@b",
                            "sip:a@b?x=y", "<sip:a@b>;", "<sip:a@b>;=x", "<sip:a@b> junk", "<sip:a b@c>",
                            "Bell, Alexander <sip:a@b>", "<sip:a@b>;tag=\"x"}) {
        INFO(std::string(bad));
        CHECK_FALSE(parseNameAddr(bad).ok());
    }
}

TEST_CASE("ParamList: values with and without '=', quoted values and case-insensitive names") {
    auto na = parseNameAddr(R"(<sip:a@b>;Expires=60;lr;+sip.instance="<urn:uuid:1\"2>";q = 0.5)");
    REQUIRE(na.ok());
    const ParamList& p = na->params;
    REQUIRE(p.items.size() == 4);
    CHECK(p.find("expires")->value == "60");
    CHECK(p.has("LR"));
    CHECK(p.find("lr")->value.empty());
    CHECK_FALSE(p.find("lr")->hasValue);
    CHECK(p.find("+sip.instance")->value == R"("<urn:uuid:1\"2>")");
    CHECK(*p.unquoted("+sip.instance") == R"(<urn:uuid:1"2>)");
    CHECK(*p.unquoted("q") == "0.5");
    CHECK_FALSE(p.unquoted("missing").has_value());
}

TEST_CASE("Call-ID and CSeq") {
    Message m = parseOk(response({"i: f81d4fae-7dec-11d0@foo.bar.com", "CSeq: 0042", "  REGISTER"}));
    CHECK(*callId(m) == "f81d4fae-7dec-11d0@foo.bar.com");
    auto cs = cseq(m);
    REQUIRE(cs.ok());
    CHECK(cs->number == 42);
    CHECK(cs->method == "REGISTER");

    CHECK(cseq(parseOk(response({"CSeq: 4294967295 INVITE"})))->number == 4294967295u);
    for (const char* bad : {"CSeq: 4294967296 INVITE", "CSeq: INVITE", "CSeq: 1", "CSeq: 1INVITE", "CSeq: -1 INVITE",
                            "CSeq: 1 INVITE extra", "CSeq: 99999999999999999999999 INVITE"}) {
        INFO(std::string(bad));
        CHECK_FALSE(cseq(parseOk(response({bad}))).ok());
    }
    CHECK_FALSE(callId(parseOk(response({"Call-ID: a b"}))).ok());
    CHECK_FALSE(callId(parseOk(response({"Call-ID:"}))).ok());
    auto missing = callId(parseOk(response({"CSeq: 1 A"})));
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().message == "missing Call-ID header");
}

TEST_CASE("Contact: several values and lines, expires, q, +sip.instance, reg-id") {
    Message m = parseOk(response({
        R"(Contact: <sip:alice@192.0.2.4:5060;transport=tcp>;expires=3600;q=0.7;+sip.instance="<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>";reg-id=1,)",
        R"(  "Second, device" <sip:alice@198.51.100.2>;expires=60)",
        "m: sip:alice@203.0.113.9;expires=0",
    }));
    auto c = contacts(m);
    REQUIRE(c.ok());
    REQUIRE(c->size() == 3);
    const ContactValue& a = (*c)[0];
    CHECK_FALSE(a.star);
    CHECK(a.address.uri.host == "192.0.2.4");
    CHECK(*a.expires() == 3600);
    CHECK(*a.q() == "0.7");
    CHECK(*a.instance() == "<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>");
    CHECK(*a.regId() == 1);
    CHECK((*c)[1].address.displayName == "Second, device");
    CHECK(*(*c)[1].expires() == 60);
    CHECK_FALSE((*c)[1].regId().has_value());
    CHECK_FALSE((*c)[1].instance().has_value());
    CHECK((*c)[2].address.uri.host == "203.0.113.9");
    CHECK(*(*c)[2].expires() == 0);
}

TEST_CASE("Contact: star, none, and errors") {
    auto star = contacts(parseOk(response({"Contact: *", "Expires: 0"})));
    REQUIRE(star.ok());
    REQUIRE(star->size() == 1);
    CHECK((*star)[0].star);

    auto none = contacts(parseOk(response({"Call-ID: x"})));
    REQUIRE(none.ok());
    CHECK(none->empty());

    for (const char* bad : {"Contact: <sip:a@b>;expires=4294967296", "Contact: <sip:a@b>;expires=soon",
                            "Contact: <sip:a@b>;reg-id=-1", "Contact: <sip:a@b>,", "Contact: <sip:a@b>;;",
                            "Contact: sip:a@b?Route=x"}) {
        INFO(std::string(bad));
        auto r = contacts(parseOk(response({bad})));
        REQUIRE_FALSE(r.ok());
        CHECK(contains(r.error().message, "Contact: "));
    }
}

TEST_CASE("Expires, Min-Expires, Max-Forwards, Content-Length") {
    Message m = parseOk(response({"Expires: 3600", "Min-Expires: 1800", "Max-Forwards: 070", "l: 0"}));
    CHECK(**expires(m) == 3600);
    CHECK(**minExpires(m) == 1800);
    CHECK(**maxForwards(m) == 70);
    CHECK(**contentLength(m) == 0);

    Message empty = parseOk(response({"Call-ID: x"}));
    CHECK_FALSE(expires(empty)->has_value());
    CHECK_FALSE(minExpires(empty)->has_value());
    CHECK_FALSE(maxForwards(empty)->has_value());
    CHECK_FALSE(contentLength(empty)->has_value());

    CHECK(**expires(parseOk(response({"Expires: 4294967295"}))) == 4294967295u);
    for (const char* bad : {"Expires: 4294967296", "Expires: -5", "Expires: 10 s", "Expires:",
                            "Expires: 100000000000000000000000000000000000000"}) {
        INFO(std::string(bad));
        auto r = expires(parseOk(response({bad})));
        REQUIRE_FALSE(r.ok());
        CHECK(contains(r.error().message, "Expires: "));
        CHECK(r.error().hasOffset());
    }
    CHECK_FALSE(minExpires(parseOk(response({"Min-Expires: x"}))).ok());
    CHECK_FALSE(maxForwards(parseOk(response({"Max-Forwards: 99999999999"}))).ok());
}

TEST_CASE("Retry-After with comment and duration") {
    Message m = parseOk(response({"Retry-After: 120 (I'm in a (long) meeting) ;duration=3600"}));
    auto r = retryAfter(m);
    REQUIRE(r.ok());
    REQUIRE(r->has_value());
    CHECK((*r)->seconds == 120);
    CHECK((*r)->comment == "I'm in a (long) meeting");
    CHECK(*(*r)->duration == 3600);

    auto plain = retryAfter(parseOk(response({"Retry-After: 5"})));
    CHECK((*plain)->seconds == 5);
    CHECK_FALSE((*plain)->duration.has_value());
    CHECK_FALSE(retryAfter(parseOk(response({"Call-ID: x"})))->has_value());

    for (const char* bad : {"Retry-After: 4294967296", "Retry-After: (x)", "Retry-After: 5 (open",
                            "Retry-After: 5;duration=x", "Retry-After: 5 junk"}) {
        INFO(std::string(bad));
        CHECK_FALSE(retryAfter(parseOk(response({bad}))).ok());
    }
}

TEST_CASE("WWW-Authenticate: several challenges in one header and several headers") {
    std::string bytes = "SIP/2.0 401 Unauthorized\r\n"
                        "WWW-Authenticate: Digest realm=\"atlanta.example.com\", qop=\"auth,auth-int\",\r\n"
                        "  nonce=\"ea9c8e88df84f1cec4341ae6cbe5a359\", opaque=\"\", stale=FALSE, algorithm=SHA-256,\r\n"
                        "  Digest realm=\"atlanta.example.com\", nonce=\"x\\\"y\", algorithm=MD5\r\n"
                        "www-authenticate: Basic realm=\"legacy\"\r\n"
                        "Proxy-Authenticate: Digest realm=\"proxy\", nonce=\"n1\"\r\n"
                        "\r\n";
    Message m = parseOk(bytes);
    auto w = wwwAuthenticate(m);
    REQUIRE(w.ok());
    REQUIRE(w->size() == 3);
    const AuthValue& sha = (*w)[0];
    CHECK(sha.scheme == "Digest");
    CHECK(*sha.params.unquoted("realm") == "atlanta.example.com");
    CHECK(*sha.params.unquoted("qop") == "auth,auth-int");
    CHECK(sha.params.find("nonce")->value == "\"ea9c8e88df84f1cec4341ae6cbe5a359\"");
    CHECK(*sha.params.unquoted("opaque") == "");
    CHECK(sha.params.find("stale")->value == "FALSE");
    CHECK(sha.params.find("ALGORITHM")->value == "SHA-256");
    CHECK(sha.params.items.size() == 6);
    CHECK((*w)[1].params.find("algorithm")->value == "MD5");
    CHECK(*(*w)[1].params.unquoted("nonce") == "x\"y");
    CHECK((*w)[2].scheme == "Basic");
    CHECK(*(*w)[2].params.unquoted("realm") == "legacy");

    auto p = proxyAuthenticate(m);
    REQUIRE(p.ok());
    REQUIRE(p->size() == 1);
    CHECK(*(*p)[0].params.unquoted("realm") == "proxy");
    CHECK(proxyAuthenticate(parseOk(response({"Call-ID: x"})))->empty());
}

TEST_CASE("parseAuthValues: token68 credentials and errors") {
    auto b = parseAuthValues("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    REQUIRE(b.ok());
    REQUIRE(b->size() == 1);
    CHECK((*b)[0].scheme == "Basic");
    REQUIRE((*b)[0].params.items.size() == 1);
    CHECK((*b)[0].params.items[0].name == "QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    CHECK_FALSE((*b)[0].params.items[0].hasValue);

    auto empty = parseAuthValues("  ");
    REQUIRE(empty.ok());
    CHECK(empty->empty());

    for (const char* bad : {"Digest realm=\"x\", nonce=", "Digest realm=\"x", "Digest realm=\"a\" nonce=\"b\"",
                            "Digest =x", "Digest realm=a, ;", "\"Digest\" realm=a", "Digest realm=a b"}) {
        INFO(std::string(bad));
        CHECK_FALSE(parseAuthValues(bad).ok());
    }
}

TEST_CASE("Authentication-Info") {
    Message m = parseOk(response(
        {R"(Authentication-Info: nextnonce="47364c23432d2e131a5fb210812c", qop=auth, rspauth="6629", cnonce="0a4f113b", nc=00000001)"}));
    auto ai = authenticationInfo(m);
    REQUIRE(ai.ok());
    REQUIRE(ai->has_value());
    CHECK(*(*ai)->unquoted("nextnonce") == "47364c23432d2e131a5fb210812c");
    CHECK((*ai)->find("qop")->value == "auth");
    CHECK((*ai)->find("nc")->value == "00000001");
    CHECK((*ai)->items.size() == 5);
    CHECK_FALSE(authenticationInfo(parseOk(response({"Call-ID: x"})))->has_value());
    CHECK_FALSE(authenticationInfo(parseOk(response({"Authentication-Info: nextnonce"}))).ok());
    CHECK_FALSE(authenticationInfo(parseOk(response({"Authentication-Info: a=\"x\"y"}))).ok());
}

TEST_CASE("Supported, Require, Allow collect tokens from every line") {
    Message m = parseOk(response({"Supported: path, outbound", "k: gruu", "Require: outbound",
                                  "Allow: INVITE, ACK,OPTIONS", "Allow:  REGISTER ,, BYE"}));
    CHECK(supported(m) == std::vector<std::string_view>{"path", "outbound", "gruu"});
    CHECK(require(m) == std::vector<std::string_view>{"outbound"});
    CHECK(allow(m) == std::vector<std::string_view>{"INVITE", "ACK", "OPTIONS", "REGISTER", "BYE"});
    CHECK(supported(parseOk(response({"Call-ID: x"}))).empty());
}

TEST_CASE("typed accessor errors carry the offset into the message") {
    std::string bytes = response({"Call-ID: x", "Expires: soon"});
    Message m = parseOk(bytes);
    auto r = expires(m);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().offset == bytes.find("soon"));
}

TEST_CASE("validateRequest accepts a well-formed REGISTER and names what is wrong otherwise") {
    const std::string good = crlf({"REGISTER sip:example.com SIP/2.0", "Via: SIP/2.0/UDP h;branch=z9hG4bK1",
                                   "Max-Forwards: 70", "From: <sip:a@example.com>;tag=1", "To: <sip:a@example.com>",
                                   "Call-ID: c1", "CSeq: 1 REGISTER", "Contact: <sip:a@h>;expires=60",
                                   "Content-Length: 0", ""});
    CHECK(validateRequest(parseOk(good)).ok());
    CHECK_FALSE(validateResponse(parseOk(good)).ok());

    auto replace = [&](std::string_view from, std::string_view to) {
        std::string s = good;
        s.replace(s.find(from), from.size(), to);
        return s;
    };
    struct Case {
        std::string bytes;
        const char* message;
    };
    for (const Case& c : {Case{replace("CSeq: 1 REGISTER", "CSeq: 1 INVITE"),
                               "CSeq method 'INVITE' does not match request method 'REGISTER'"},
                          Case{replace("SIP/2.0\r\n", "SIP/3.0\r\n"), "unsupported SIP version 'SIP/3.0'"},
                          Case{replace("Call-ID: c1\r\n", ""), "missing Call-ID header"},
                          Case{replace("Call-ID: c1\r\n", "Call-ID: c1\r\ni: c2\r\n"), "more than one Call-ID header"},
                          Case{replace("Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n", ""), "missing Via header"},
                          Case{replace("Max-Forwards: 70\r\n", "Max-Forwards: 70\r\nMax-Forwards: 69\r\n"),
                               "more than one Max-Forwards header"},
                          Case{replace("sip:example.com SIP", "sip:example.com?Route=x SIP"),
                               "Request-URI must not carry headers"}}) {
        INFO(std::string(c.message));
        auto r = validateRequest(parseOk(c.bytes));
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().message == c.message);
    }
}
