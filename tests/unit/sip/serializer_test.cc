#include <doctest/doctest.h>

#include <string>

#include "sip/serializer.h"
#include "sip/typed_headers.h"
#include "sip_test_util.h"

using namespace sipreg::sip;
using sipreg::sip::test::crlf;
using sipreg::sip::test::parseOk;

namespace {

OutgoingRequest sampleRegister() {
    OutgoingRequest r;
    r.method = "REGISTER";
    r.requestUri = "sip:registrar.example.com";
    r.headers = {
        {"Via", "SIP/2.0/UDP 192.0.2.4:5060;branch=z9hG4bKnashds7;rport"},
        {"Max-Forwards", "70"},
        {"From", "<sip:alice@example.com>;tag=456248"},
        {"To", "<sip:alice@example.com>"},
        {"Call-ID", "843817637684230@998sdasdh09"},
        {"CSeq", "1826 REGISTER"},
        {"Contact", "<sip:alice@192.0.2.4:5060>;expires=3600"},
    };
    return r;
}

}  // namespace

TEST_CASE("serialize a request: exact bytes, Content-Length last") {
    const std::string expected = crlf({
        "REGISTER sip:registrar.example.com SIP/2.0",
        "Via: SIP/2.0/UDP 192.0.2.4:5060;branch=z9hG4bKnashds7;rport",
        "Max-Forwards: 70",
        "From: <sip:alice@example.com>;tag=456248",
        "To: <sip:alice@example.com>",
        "Call-ID: 843817637684230@998sdasdh09",
        "CSeq: 1826 REGISTER",
        "Contact: <sip:alice@192.0.2.4:5060>;expires=3600",
        "Content-Length: 0",
        "",
    });
    CHECK(serialize(sampleRegister()) == expected);
}

TEST_CASE("serialize a response with a body") {
    OutgoingResponse r;
    r.statusCode = 486;
    r.reason = "Busy Here";
    r.headers = {{"Call-ID", "x"}, {"content-length", "999"}, {"l", "7"}, {"Content-Type", "text/plain"}};
    r.body = "hello\r\n";
    CHECK(serialize(r) == "SIP/2.0 486 Busy Here\r\nCall-ID: x\r\nContent-Type: text/plain\r\n"
                          "Content-Length: 7\r\n\r\nhello\r\n");
}

TEST_CASE("serializeTo appends to the buffer") {
    std::string out = "prefix|";
    serializeTo(out, sampleRegister());
    CHECK(out == "prefix|" + serialize(sampleRegister()));
    OutgoingResponse r;
    r.reason = "OK";
    std::string resp;
    serializeTo(resp, r);
    CHECK(resp == "SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n");
}

TEST_CASE("round trip: serialize, parse, read back every field") {
    OutgoingRequest req = sampleRegister();
    req.body = "a=b\r\nc";
    const std::string bytes = serialize(req);
    Message m = parseOk(bytes);
    CHECK(m.method() == req.method);
    CHECK(m.requestUriText() == req.requestUri);
    REQUIRE(m.headers().size() == req.headers.size() + 1);
    for (std::size_t i = 0; i < req.headers.size(); ++i) {
        CHECK(m.headers()[i].name == req.headers[i].name);
        CHECK(m.headers()[i].value == req.headers[i].value);
    }
    CHECK(m.body() == req.body);
    CHECK(**contentLength(m) == req.body.size());
    CHECK(m.raw() == bytes);
    CHECK(cseq(m)->number == 1826);
}

TEST_CASE("makeResponse copies Via, From, To, Call-ID, CSeq and adds the To tag") {
    const std::string request = crlf({
        "OPTIONS sip:alice@192.0.2.4 SIP/2.0",
        "Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bK1, SIP/2.0/UDP 198.51.100.1;branch=z9hG4bK0",
        "v: SIP/2.0/TCP edge.example.com",
        "  ;branch=z9hG4bKedge",
        "Max-Forwards: 69",
        "f: <sip:registrar.example.com>;tag=from1",
        "t: <sip:alice@example.com>",
        "i: call-1@registrar",
        "CSeq: 7 OPTIONS",
        "Accept: application/sdp",
        "Content-Length: 0",
        "",
    });
    Message m = parseOk(request);
    OutgoingResponse resp = makeResponse(m, 200, "OK", "totag9", {{"Allow", "OPTIONS, NOTIFY"}});
    const std::string expected = crlf({
        "SIP/2.0 200 OK",
        "Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bK1, SIP/2.0/UDP 198.51.100.1;branch=z9hG4bK0",
        "Via: SIP/2.0/TCP edge.example.com ;branch=z9hG4bKedge",
        "From: <sip:registrar.example.com>;tag=from1",
        "To: <sip:alice@example.com>;tag=totag9",
        "Call-ID: call-1@registrar",
        "CSeq: 7 OPTIONS",
        "Allow: OPTIONS, NOTIFY",
        "Content-Length: 0",
        "",
    });
    CHECK(serialize(resp) == expected);

    Message parsedResp = parseOk(serialize(resp));
    CHECK(parsedResp.statusCode() == 200);
    CHECK(toHeader(parsedResp)->tag() == "totag9");
    CHECK(vias(parsedResp)->size() == 3);
}

TEST_CASE("makeResponse keeps an existing To tag and adds none when toTag is empty") {
    Message tagged = parseOk(crlf({"BYE sip:a@b SIP/2.0", "Via: SIP/2.0/UDP h;branch=z9hG4bK1",
                                   "To: <sip:a@b>;tag=existing", "From: <sip:c@d>;tag=f", "Call-ID: x",
                                   "CSeq: 2 BYE", ""}));
    auto r1 = makeResponse(tagged, 481, "Call/Transaction Does Not Exist", "new");
    REQUIRE(r1.headers.size() == 5);
    CHECK(r1.headers[2].name == "To");
    CHECK(r1.headers[2].value == "<sip:a@b>;tag=existing");
    CHECK(r1.statusCode == 481);
    CHECK(r1.reason == "Call/Transaction Does Not Exist");

    Message untagged = parseOk(crlf({"BYE sip:a@b SIP/2.0", "To: <sip:a@b>", ""}));
    auto r2 = makeResponse(untagged, 400, "Bad Request");
    REQUIRE(r2.headers.size() == 1);
    CHECK(r2.headers[0].value == "<sip:a@b>");
}
