#include <doctest/doctest.h>

#include <string>

#include "sip/header_id.h"
#include "sip/message.h"
#include "sip/typed_headers.h"
#include "sip_test_util.h"

using namespace sipreg::sip;
using sipreg::sip::test::contains;
using sipreg::sip::test::crlf;
using sipreg::sip::test::parseOk;

namespace {

const std::string kOptions = crlf({
    "OPTIONS sip:registrar.example.com SIP/2.0",
    "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds",
    "Max-Forwards: 70",
    "To: <sip:registrar.example.com>",
    "From: Alice <sip:alice@example.com>;tag=1928301774",
    "Call-ID: a84b4c76e66710@pc33.example.com",
    "CSeq: 63104 OPTIONS",
    "Content-Length: 0",
    "",
});

std::string requestWithHeaders(std::initializer_list<std::string_view> headers, std::string_view body = {}) {
    std::string out = "REGISTER sip:example.com SIP/2.0\r\n";
    for (auto h : headers) {
        out += h;
        out += "\r\n";
    }
    out += "\r\n";
    out += body;
    return out;
}

}  // namespace

TEST_CASE("parses a request line and headers in order") {
    Message m = parseOk(kOptions);
    CHECK(m.isRequest());
    CHECK_FALSE(m.isResponse());
    CHECK(m.method() == "OPTIONS");
    CHECK(m.requestUriText() == "sip:registrar.example.com");
    CHECK(m.requestUri().host == "registrar.example.com");
    CHECK(m.version() == "SIP/2.0");
    REQUIRE(m.headers().size() == 7);
    CHECK(m.headers()[0].id == HeaderId::Via);
    CHECK(m.headers()[0].name == "Via");
    CHECK(m.headers()[0].value == "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds");
    CHECK(m.headers()[6].id == HeaderId::ContentLength);
    CHECK(m.body().empty());
    CHECK(m.raw() == kOptions);
}

TEST_CASE("parses a status line with a multi-word reason") {
    std::string bytes = crlf({"SIP/2.0 401 Unauthorized Here", "Call-ID: x", "Content-Length: 0", ""});
    Message m = parseOk(bytes);
    CHECK(m.isResponse());
    CHECK(m.statusCode() == 401);
    CHECK(m.reason() == "Unauthorized Here");
    CHECK(m.version() == "SIP/2.0");
    CHECK(m.method().empty());
}

TEST_CASE("status code must be three digits in 100..699") {
    for (const char* line : {"SIP/2.0 99 Low", "SIP/2.0 1000 High", "SIP/2.0 700 Over", "SIP/2.0 099 Low",
                             "SIP/2.0 4294967301 Overflow", "SIP/2.0 20x OK", "SIP/2.0"}) {
        INFO(std::string(line));
        auto r = parseDatagram(crlf({line, "Call-ID: x", ""}));
        REQUIRE_FALSE(r.ok());
        CHECK(contains(r.error().message, "line 1"));
    }
    CHECK(parseDatagram(crlf({"SIP/2.0 699 Edge", ""})).ok());
    CHECK(parseDatagram(crlf({"SIP/2.0 100", ""})).ok());
}

TEST_CASE("request line errors") {
    for (const char* line : {"OPTIONS", "OPTIONS sip:a@b", "OPTIONS sip:a@b HTTP/1.1", "OPT(ONS sip:a@b SIP/2.0",
                             "OPTIONS sip:a@b; lr SIP/2.0", "OPTIONS <sip:a@b> SIP/2.0", "OPTIONS  SIP/2.0",
                             "OPTIONS sip:a@b SIP/2"}) {
        INFO(std::string(line));
        auto r = parseDatagram(crlf({line, "Call-ID: x", ""}));
        REQUIRE_FALSE(r.ok());
        CHECK(contains(r.error().message, "line 1"));
    }
}

TEST_CASE("header names are case-insensitive and compact forms map to the long form") {
    struct Case {
        const char* name;
        HeaderId id;
    };
    for (Case c : {Case{"i", HeaderId::CallId}, {"m", HeaderId::Contact}, {"f", HeaderId::From},
                   {"t", HeaderId::To}, {"v", HeaderId::Via}, {"l", HeaderId::ContentLength},
                   {"k", HeaderId::Supported}, {"s", HeaderId::Subject}, {"c", HeaderId::ContentType},
                   {"e", HeaderId::ContentEncoding}, {"o", HeaderId::Event}, {"u", HeaderId::AllowEvents},
                   {"r", HeaderId::ReferTo}, {"b", HeaderId::ReferredBy}, {"x", HeaderId::SessionExpires},
                   {"y", HeaderId::Identity}, {"a", HeaderId::AcceptContact}, {"j", HeaderId::RejectContact},
                   {"d", HeaderId::RequestDisposition}, {"n", HeaderId::IdentityInfo},
                   {"I", HeaderId::CallId}, {"V", HeaderId::Via}, {"call-id", HeaderId::CallId},
                   {"CALL-ID", HeaderId::CallId}, {"www-authenticate", HeaderId::WwwAuthenticate},
                   {"cseq", HeaderId::CSeq}, {"MIN-expires", HeaderId::MinExpires}, {"z", HeaderId::Other},
                   {"X-Custom", HeaderId::Other}, {"", HeaderId::Other}}) {
        INFO(std::string(c.name));
        CHECK(headerIdFromName(c.name) == c.id);
    }
    CHECK(canonicalHeaderName(HeaderId::CallId) == "Call-ID");
    CHECK(canonicalHeaderName(HeaderId::WwwAuthenticate) == "WWW-Authenticate");
    CHECK(canonicalHeaderName(HeaderId::CSeq) == "CSeq");
    CHECK(canonicalHeaderName(HeaderId::Other).empty());
}

TEST_CASE("header lookup by id and by name, including compact forms") {
    Message m = parseOk(requestWithHeaders({"i: abc@host", "x-Custom-Header: one", "X-CUSTOM-HEADER: two",
                                            "V: SIP/2.0/UDP h;branch=z9hG4bK1", "l: 0"}));
    CHECK(m.headers()[0].name == "i");
    CHECK(*m.header(HeaderId::CallId) == "abc@host");
    CHECK(*m.header("Call-ID") == "abc@host");
    CHECK(*m.header("i") == "abc@host");
    CHECK(*m.header("via") == "SIP/2.0/UDP h;branch=z9hG4bK1");
    CHECK(*m.header("X-Custom-Header") == "one");
    CHECK_FALSE(m.header("X-Missing").has_value());
    CHECK_FALSE(m.header(HeaderId::Contact).has_value());
}

TEST_CASE("folded header lines keep one value; LWS around ':' is allowed") {
    Message m = parseOk(requestWithHeaders({"Subject  :  first part", "  second part", "\tthird part",
                                            "Call-ID : x@y", "Content-Length: 0"}));
    REQUIRE(m.headers().size() == 3);
    CHECK(m.headers()[0].name == "Subject");
    CHECK(m.headers()[0].value == "first part\r\n  second part\r\n\tthird part");
    CHECK(*m.header(HeaderId::CallId) == "x@y");
}

TEST_CASE("empty header value is allowed") {
    Message m = parseOk(requestWithHeaders({"Subject:", "s:   ", "Content-Length: 0"}));
    CHECK(m.headers()[0].value.empty());
    CHECK(m.headers()[1].value.empty());
}

TEST_CASE("malformed header lines give errors naming the line") {
    SUBCASE("no colon") {
        auto r = parseDatagram(requestWithHeaders({"Call-ID: x", "This line has no colon"}));
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().message == "line 3: header without ':'");
        CHECK(r.error().offset == std::string("REGISTER sip:example.com SIP/2.0\r\nCall-ID: x\r\n").size());
    }
    SUBCASE("bad header name") {
        auto r = parseDatagram(requestWithHeaders({"Bad Name: x"}));
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().message == "line 2: invalid header name");
    }
    SUBCASE("empty header name") {
        auto r = parseDatagram(requestWithHeaders({": x"}));
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().message == "line 2: invalid header name");
    }
    SUBCASE("continuation before any header") {
        auto r = parseDatagram(requestWithHeaders({" folded: x"}));
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().message == "line 2: continuation line without a header");
    }
    SUBCASE("header section never ends") {
        std::string bytes = "OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\r\n";
        auto r = parseDatagram(bytes);
        REQUIRE_FALSE(r.ok());
        CHECK(contains(r.error().message, "not terminated"));
        CHECK(r.error().offset == bytes.size());
    }
    SUBCASE("start line never ends") {
        auto r = parseDatagram("OPTIONS sip:a@b SIP/2.0");
        REQUIRE_FALSE(r.ok());
        CHECK(contains(r.error().message, "line 1"));
    }
    SUBCASE("empty datagram") {
        CHECK_FALSE(parseDatagram("").ok());
        CHECK_FALSE(parseDatagram("\r\n\r\n").ok());
    }
}

TEST_CASE("Content-Length frames the body; trailing octets are ignored") {
    std::string bytes = requestWithHeaders({"Content-Length: 5"}, "helloEXTRA");
    Message m = parseOk(bytes);
    CHECK(m.body() == "hello");
    CHECK(m.raw() == bytes.substr(0, bytes.size() - 5));
}

TEST_CASE("without Content-Length the body runs to the end of the datagram") {
    Message m = parseOk(requestWithHeaders({"Call-ID: x"}, "v=0\r\nrest"));
    CHECK(m.body() == "v=0\r\nrest");
}

TEST_CASE("Content-Length errors") {
    struct Case {
        const char* header;
        const char* body;
        const char* message;
    };
    for (Case c : {Case{"Content-Length: -1", "", "invalid Content-Length '-1'"},
                   {"Content-Length: abc", "", "invalid Content-Length 'abc'"},
                   {"Content-Length: ", "", "invalid Content-Length ''"},
                   {"Content-Length: 1 2", "12", "invalid Content-Length '1 2'"},
                   {"Content-Length: 4294967296", "", "invalid Content-Length '4294967296'"},
                   {"Content-Length: 99999999999999999999999", "", "invalid Content-Length '99999999999999999999999'"},
                   {"Content-Length: 11", "0123456789", "Content-Length 11 exceeds the 10 bytes after the headers"}}) {
        INFO(std::string(c.header));
        auto r = parseDatagram(requestWithHeaders({c.header}, c.body));
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().message == c.message);
        CHECK(r.error().hasOffset());
    }
    SUBCASE("conflicting duplicates") {
        auto r = parseDatagram(requestWithHeaders({"Content-Length: 2", "l: 3"}, "abc"));
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().message == "conflicting Content-Length values");
    }
    SUBCASE("identical duplicates are harmless") {
        Message m = parseOk(requestWithHeaders({"Content-Length: 3", "l: 3"}, "abc"));
        CHECK(m.body() == "abc");
    }
}

TEST_CASE("message size limit: 64 KiB accepted, one more byte rejected") {
    const std::size_t limit = ParseLimits{}.maxMessageBytes;
    REQUIRE(limit == 64 * 1024);
    std::string head = requestWithHeaders({"Call-ID: x"});
    std::string exact = head + std::string(limit - head.size(), 'a');
    REQUIRE(exact.size() == limit);
    Message m = parseOk(exact);
    CHECK(m.body().size() == limit - head.size());

    auto r = parseDatagram(exact + "a");
    REQUIRE_FALSE(r.ok());
    CHECK(contains(r.error().message, "larger than 65536 bytes"));
}

TEST_CASE("header count limit") {
    ParseLimits limits;
    limits.maxHeaderCount = 4;
    auto ok = parseDatagram(requestWithHeaders({"A: 1", "B: 2", "C: 3", "D: 4"}), limits);
    CHECK(ok.ok());
    auto r = parseDatagram(requestWithHeaders({"A: 1", "B: 2", "C: 3", "D: 4", "E: 5"}), limits);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message == "line 6: more than 4 header fields");

    std::string many = "OPTIONS sip:a@b SIP/2.0\r\n";
    for (int i = 0; i < 257; ++i) many += "X-H: v\r\n";
    many += "\r\n";
    auto dflt = parseDatagram(many);
    REQUIRE_FALSE(dflt.ok());
    CHECK(contains(dflt.error().message, "more than 256 header fields"));
}

TEST_CASE("line length limit") {
    ParseLimits limits;
    std::string okValue(limits.maxLineBytes - std::string("X-Long: ").size(), 'v');
    CHECK(parseDatagram(requestWithHeaders({"X-Long: " + okValue}), limits).ok());
    auto r = parseDatagram(requestWithHeaders({"Call-ID: x", "X-Long: " + okValue + "v"}), limits);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message == "line 3: longer than 8192 bytes");

    limits.maxLineBytes = 20;
    auto start = parseDatagram(crlf({"OPTIONS sip:averyveryverylonguri@b SIP/2.0", ""}), limits);
    REQUIRE_FALSE(start.ok());
    CHECK(start.error().message == "line 1: longer than 20 bytes");
}

TEST_CASE("bare LF line ends and leading CRLFs are accepted") {
    Message m = parseOk("\r\n\r\nOPTIONS sip:a@b SIP/2.0\nCall-ID: x\nSubject: a\n b\nContent-Length: 2\n\nhi");
    CHECK(m.method() == "OPTIONS");
    CHECK(*m.header(HeaderId::CallId) == "x");
    CHECK(m.body() == "hi");
    CHECK(m.raw().substr(0, 7) == "OPTIONS");
}

TEST_CASE("views stay valid after the message is moved and the input is gone") {
    Message moved;
    {
        std::string bytes = kOptions;
        Message m = parseOk(bytes);
        bytes.assign(bytes.size(), 'X');
        moved = std::move(m);
    }
    CHECK(moved.method() == "OPTIONS");
    CHECK(*moved.header(HeaderId::CallId) == "a84b4c76e66710@pc33.example.com");
    CHECK(moved.requestUri().host == "registrar.example.com");
}

TEST_CASE("NUL and high bytes inside header values do not stop the parser") {
    std::string bytes = requestWithHeaders({std::string("X-Bin: a\0b\x80\xff", 12), "Content-Length: 0"});
    Message m = parseOk(bytes);
    CHECK(m.headers()[0].value == std::string_view("a\0b\x80\xff", 5));
}
