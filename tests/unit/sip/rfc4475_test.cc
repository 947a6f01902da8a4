// Every message of the RFC 4475 torture test archive, driven by tests/data/rfc4475/MANIFEST.tsv.
// Each manifest row must have a check below; a new row without one fails the suite.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "sip/stream_framer.h"
#include "sip/typed_headers.h"
#include "sip/validate.h"
#include "sip_test_util.h"
#include "support/test_data.h"

using namespace sipreg::sip;
using sipreg::sip::test::contains;
using sipreg::sip::test::parseOk;
using sipreg::test::dataPath;
using sipreg::test::readDataFile;

namespace {

struct Row {
    std::string file;
    std::string group;
    std::string expectation;
};

std::vector<Row> readManifest(const std::string& relative) {
    std::ifstream in(dataPath(relative));
    REQUIRE(in.good());
    std::vector<Row> rows;
    std::string line;
    std::getline(in, line);  // column titles
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        std::vector<std::string> cols;
        std::stringstream ss(line);
        std::string col;
        while (std::getline(ss, col, '\t')) cols.push_back(col);
        REQUIRE(cols.size() >= 5);
        rows.push_back({cols[0], cols[3], cols[4]});
    }
    return rows;
}

enum class Outcome { Accepted, Rejected };

// Parses and runs the semantic check; for messages that must be accepted.
Message acceptedMessage(const std::string& bytes) {
    Message m = parseOk(bytes);
    auto v = m.isRequest() ? validateRequest(m) : validateResponse(m);
    if (!v) FAIL_CHECK("validation failed: " << v.error().message);
    return m;
}

std::string decoded(std::string_view s) {
    auto r = percentDecode(s);
    REQUIRE(r.ok());
    return *r;
}

Outcome parseRejected(const std::string& bytes, std::string_view expectedMessagePart) {
    auto r = parseDatagram(bytes);
    REQUIRE_FALSE(r.ok());
    INFO("error: " << r.error().message);
    CHECK(contains(r.error().message, expectedMessagePart));
    CHECK(r.error().hasOffset());
    CHECK(r.error().offset <= bytes.size());
    return Outcome::Rejected;
}

Outcome requestSemanticallyRejected(const std::string& bytes, std::string_view expectedMessagePart) {
    Message m = parseOk(bytes);
    auto v = validateRequest(m);
    REQUIRE_FALSE(v.ok());
    INFO("error: " << v.error().message);
    CHECK(contains(v.error().message, expectedMessagePart));
    return Outcome::Rejected;
}

using Check = std::function<Outcome(const std::string&)>;

const std::map<std::string, Check>& checks() {
    static const std::map<std::string, Check> kChecks = {
        {"wsinv.dat",
         [](const std::string& d) {
             Message m = acceptedMessage(d);
             CHECK(m.method() == "INVITE");
             CHECK(m.requestUri().user == "vivekg");
             CHECK(m.requestUri().host == "chair-dnrc.example.com");
             CHECK(m.requestUri().param("unknownparam").has_value());
             auto to = toHeader(m);
             CHECK(to->uri.user == "vivekg");
             CHECK(to->tag() == "1918181833n");
             auto from = fromHeader(m);
             CHECK(from->displayName == "J Rosenberg \\\"");
             CHECK(from->uri.user == "jdrosen");
             CHECK(from->tag() == "98asjd8");
             CHECK(**maxForwards(m) == 68);
             CHECK(*callId(m) == "wsinv.ndaksdj@192.0.2.1");
             CHECK(cseq(m)->number == 9);
             CHECK(cseq(m)->method == "INVITE");
             auto v = vias(m);
             REQUIRE(v->size() == 3);
             CHECK((*v)[0].host == "192.0.2.2");
             CHECK((*v)[0].transport == "UDP");
             CHECK((*v)[0].branch() == "390skdjuw");
             CHECK((*v)[1].host == "spindle.example.com");
             CHECK((*v)[1].transport == "TCP");
             CHECK((*v)[1].branch() == "z9hG4bK9ikj8");
             CHECK((*v)[2].host == "192.168.255.111");
             CHECK((*v)[2].branch() == "z9hG4bK30239");
             auto c = contacts(m);
             REQUIRE(c->size() == 1);
             CHECK((*c)[0].address.displayName == "Quoted string \"\"");
             CHECK((*c)[0].address.uri.user == "jdrosen");
             CHECK((*c)[0].address.params.find("newparam")->value == "newvalue");
             CHECK_FALSE((*c)[0].address.params.find("secondparam")->hasValue);
             CHECK(*(*c)[0].q() == "0.33");
             CHECK(m.header(HeaderId::Subject)->empty());
             CHECK(contains(*m.header("newfangledheader"), "continued newfangled value"));
             CHECK(*m.header("UnknownHeaderWithUnusualValue") == ";;,,;;,;");
             CHECK(m.body().size() == 150);
             return Outcome::Accepted;
         }},
        {"intmeth.dat",
         [](const std::string& d) {
             Message m = acceptedMessage(d);
             CHECK(m.method() == "!interesting-Method0123456789_*+`.%indeed'~");
             CHECK(m.requestUri().user == "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
             CHECK(m.requestUri().password == "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
             CHECK(m.requestUri().host == "example.com");
             auto to = toHeader(m);
             REQUIRE(to.ok());
             CHECK(to->displayName == std::string("BEL:\x07 NUL:\0 DEL:\x7F", 17));
             CHECK(to->uri.user == "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
             auto from = fromHeader(m);
             REQUIRE(from.ok());
             CHECK(from->displayName == "token1~` token2'+_ token3*%!.-");
             CHECK(from->tag() == "_token~1'+`*%!-.");
             CHECK(*from->params.unquoted("fromParam''~+*_!.-%") == "\xd1\x80\xd0\xb0\xd0\xb1\xd0\xbe\xd1\x82\xd0\xb0\xd1\x8e\xd1\x89\xd0\xb8\xd0\xb9");
             CHECK(*callId(m) == "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{");
             CHECK(cseq(m)->number == 139122385);
             CHECK(cseq(m)->method == m.method());
             CHECK(vias(m)->at(0).branch() == "z9hG4bK-.!%66*_+`'~");
             CHECK(m.header("extensionHeader-!.%*+_`'~").has_value());
             return Outcome::Accepted;
         }},
        {"esc01.dat",
         [](const std::string& d) {
             Message m = acceptedMessage(d);
             CHECK(m.requestUri().user == "sips%3Auser%40example.com");
             CHECK(decoded(m.requestUri().user) == "sips:user@example.com");
             CHECK(m.requestUri().host == "example.net");
             CHECK(decoded(toHeader(m)->uri.user) == "user");
             CHECK(decoded(fromHeader(m)->uri.user) == "I have spaces");
             CHECK(*m.header(HeaderId::ContentType) == "application/sdp");
             auto c = contacts(m);
             REQUIRE(c->size() == 1);
             const Uri& u = (*c)[0].address.uri;
             CHECK(decoded(u.user) == "caller");
             CHECK(u.params == "%6C%72;n%61me=v%61lue%25%34%31");
             CHECK(decoded("%6C%72") == "lr");
             CHECK(decoded(*u.param("n%61me")) == "value%41");
             return Outcome::Accepted;
         }},
        {"escnull.dat",
         [](const std::string& d) {
             Message m = acceptedMessage(d);
             CHECK(decoded(toHeader(m)->uri.user) == std::string("null-\0-null", 11));
             auto c = contacts(m);
             REQUIRE(c->size() == 2);
             CHECK(decoded((*c)[0].address.uri.user) == std::string(1, '\0'));
             CHECK(decoded((*c)[1].address.uri.user) == std::string(2, '\0'));
             CHECK(**contentLength(m) == 0);
             return Outcome::Accepted;
         }},
        {"esc02.dat",
         [](const std::string& d) {
             Message m = acceptedMessage(d);
             CHECK(m.method() == "RE%47IST%45R");
             CHECK(toHeader(m)->displayName == "%Z%45");
             CHECK(fromHeader(m)->displayName == "%Z%45");
             CHECK(vias(m)->at(0).branch() == "z9hG4bK209%fzsnel234");
             auto c = contacts(m);
             REQUIRE(c->size() == 2);
             CHECK((*c)[0].address.uri.user == "alias1");
             CHECK((*c)[1].address.uri.user == "alias3");
             CHECK(*m.header("C%6Fntact") == "<sip:alias2@host2.example.com>");
             return Outcome::Accepted;
         }},
        {"lwsdisp.dat",
         [](const std::string& d) {
             Message m = acceptedMessage(d);
             auto from = fromHeader(m);
             CHECK(from->displayName == "caller");
             CHECK(from->uri.user == "caller");
             CHECK(from->tag() == "323");
             return Outcome::Accepted;
         }},
        {"longreq.dat",
         [](const std::string& d) {
             Message m = acceptedMessage(d);
             auto to = toHeader(m);
             CHECK(to->displayName.starts_with("I have a user name of extreme"));
             CHECK(*to->uri.port == 6000);
             CHECK(to->uri.param("longparamnamenamenamenamenamenamenamenamenamenamenamenamenamenamenamenamenamenamenamenamenamenamenamenamename") == "shortvalue");
             auto from = fromHeader(m);
             CHECK(from->tag().size() == 155);
             CHECK(from->params.items.size() == 3);
             CHECK(callId(m)->size() == 141);
             auto v = vias(m);
             REQUIRE(v->size() == 34);
             CHECK((*v)[0].host == "sip33.example.com");
             CHECK((*v)[32].host == "sip1.example.com");
             CHECK(*(*v)[33].received() == "192.0.2.5");
             CHECK((*v)[33].branch().ends_with("longbranchvalue"));
             CHECK(contacts(m)->size() == 1);
             CHECK(m.body().size() == 150);
             return Outcome::Accepted;
         }},
        {"dblreq.dat",
         [](const std::string& d) {
             Message m = acceptedMessage(d);
             CHECK(m.method() == "REGISTER");
             CHECK(*callId(m) == "dblreq.0ha0isndaksdj99sdfafnl3lk233412");
             CHECK(m.body().empty());
             CHECK(m.raw().ends_with("Content-Length: 0\r\n\r\n"));
             CHECK(m.raw().size() == d.find("Content-Length: 0\r\n\r\n") + 21);
             CHECK_FALSE(contains(m.raw(), "INVITE"));
             CHECK(contacts(m)->at(0).address.uri.user == "j.user");
             return Outcome::Accepted;
         }},
        {"semiuri.dat",
         [](const std::string& d) {
             Message m = acceptedMessage(d);
             CHECK(m.requestUri().user == "user;par=u%40example.net");
             CHECK(m.requestUri().host == "example.com");
             CHECK(m.requestUri().params.empty());
             CHECK(contains(*m.header(HeaderId::Accept), "message/sipfrag"));
             return Outcome::Accepted;
         }},
        {"transports.dat",
         [](const std::string& d) {
             Message m = acceptedMessage(d);
             auto v = vias(m);
             REQUIRE(v->size() == 5);
             const char* transports[] = {"UDP", "SCTP", "TLS", "UNKNOWN", "TCP"};
             for (std::size_t i = 0; i < 5; ++i) {
                 CHECK((*v)[i].transport == transports[i]);
                 CHECK((*v)[i].host == "t" + std::to_string(i + 1) + ".example.com");
             }
             return Outcome::Accepted;
         }},
        {"mpart01.dat",
         [](const std::string& d) {
             Message m = acceptedMessage(d);
             CHECK(m.method() == "MESSAGE");
             CHECK(m.body().size() == 553);
             CHECK(contains(m.body(), std::string_view("\0", 1)));
             CHECK(m.body().ends_with("--7a9cbec02ceef655--\r\n"));
             auto v = vias(m);
             CHECK(*(*v)[0].port == 5070);
             CHECK((*v)[0].hasRport());
             CHECK_FALSE((*v)[0].rport().has_value());
             CHECK(m.header(HeaderId::Identity).has_value());
             return Outcome::Accepted;
         }},
        {"unreason.dat",
         [](const std::string& d) {
             Message m = acceptedMessage(d);
             CHECK(m.statusCode() == 200);
             CHECK(m.reason().starts_with("= 2**3 * 5**2 "));
             CHECK(m.reason().ends_with("\xd0\xbf\xd1\x80\xd0\xbe\xd1\x81\xd1\x82\xd0\xbe\xd0\xb5"));
             CHECK(m.body().size() == 154);
             return Outcome::Accepted;
         }},
        {"noreason.dat",
         [](const std::string& d) {
             Message m = acceptedMessage(d);
             CHECK(m.statusCode() == 100);
             CHECK(m.reason().empty());
             CHECK(toHeader(m)->tag() == "902jndnke3");
             return Outcome::Accepted;
         }},
        // Rejected by the Via accessor ("empty parameter"); the Contact accessor rejects too.
        {"badinv01.dat",
         [](const std::string& d) {
             Message m = parseOk(d);
             CHECK_FALSE(vias(m).ok());
             CHECK_FALSE(contacts(m).ok());
             CHECK_FALSE(validateRequest(m).ok());
             return Outcome::Rejected;
         }},
        // Datagram: rejected by parseDatagram. Stream: the framer waits for the rest of the body.
        {"clerr.dat",
         [](const std::string& d) {
             StreamFramer f;
             auto out = f.feed(d);
             REQUIRE(out.ok());
             CHECK(out->messages.empty());
             CHECK(f.buffered() == d.size());
             return parseRejected(d, "Content-Length 9999 exceeds");
         }},
        {"ncl.dat", [](const std::string& d) { return parseRejected(d, "invalid Content-Length '-999'"); }},
        // Parses; the CSeq, Expires and Contact accessors reject the overlarge numbers.
        {"scalar02.dat",
         [](const std::string& d) {
             Message m = parseOk(d);
             CHECK_FALSE(cseq(m).ok());
             CHECK_FALSE(expires(m).ok());
             CHECK_FALSE(contacts(m).ok());
             CHECK(**maxForwards(m) == 300);
             return requestSemanticallyRejected(d, "CSeq");
         }},
        {"scalarlg.dat",
         [](const std::string& d) {
             Message m = parseOk(d);
             CHECK_FALSE(cseq(m).ok());
             CHECK_FALSE(retryAfter(m).ok());
             auto v = validateResponse(m);
             REQUIRE_FALSE(v.ok());
             CHECK(contains(v.error().message, "CSeq"));
             return Outcome::Rejected;
         }},
        // Parses; toHeader() rejects the unterminated quoted display name.
        {"quotbal.dat",
         [](const std::string& d) {
             Message m = parseOk(d);
             auto to = toHeader(m);
             REQUIRE_FALSE(to.ok());
             CHECK(contains(to.error().message, "unterminated quoted display name"));
             CHECK(fromHeader(m).ok());
             return requestSemanticallyRejected(d, "To");
         }},
        {"ltgtruri.dat", [](const std::string& d) { return parseRejected(d, "Request-URI"); }},
        {"lwsruri.dat", [](const std::string& d) { return parseRejected(d, "whitespace inside Request-URI"); }},
        // Choice: tolerated; the extra SPs are skipped.
        {"lwsstart.dat",
         [](const std::string& d) {
             Message m = acceptedMessage(d);
             CHECK(m.method() == "INVITE");
             CHECK(m.requestUriText() == "sip:user@example.com");
             CHECK(m.version() == "SIP/2.0");
             return Outcome::Accepted;
         }},
        // Choice: tolerated; trailing SPs are dropped.
        {"trws.dat",
         [](const std::string& d) {
             Message m = acceptedMessage(d);
             CHECK(m.requestUriText() == "sip:remote-target@example.com");
             CHECK(m.version() == "SIP/2.0");
             return Outcome::Accepted;
         }},
        // Choice: rejected by validateRequest (headers in a Request-URI, RFC 3261 19.1.5).
        {"escruri.dat",
         [](const std::string& d) {
             Message m = parseOk(d);
             CHECK(m.requestUri().headers == "Route=%3Csip:example.com%3E");
             return requestSemanticallyRejected(d, "Request-URI must not carry headers");
         }},
        // Choice: tolerated; Date is not interpreted by this library.
        {"baddate.dat",
         [](const std::string& d) {
             Message m = acceptedMessage(d);
             CHECK(*m.header(HeaderId::Date) == "Fri, 01 Jan 2010 16:00:00 EST");
             return Outcome::Accepted;
         }},
        // Choice: rejected by contacts() (a URI with '?' must be in <>).
        {"regbadct.dat",
         [](const std::string& d) {
             Message m = parseOk(d);
             auto c = contacts(m);
             REQUIRE_FALSE(c.ok());
             CHECK(contains(c.error().message, "must be enclosed in <>"));
             return requestSemanticallyRejected(d, "Contact");
         }},
        // Choice: tolerated; LWS inside the angle brackets is skipped.
        {"badaspec.dat",
         [](const std::string& d) {
             Message m = acceptedMessage(d);
             auto to = toHeader(m);
             CHECK(to->displayName == "Watson, Thomas");
             CHECK(to->uri.user == "t.watson");
             CHECK(to->uri.host == "example.org");
             CHECK(fromHeader(m)->displayName == "Bell, Alexander");
             return Outcome::Accepted;
         }},
        // As published the header section never ends: parseDatagram rejects it. With the empty
        // line added, toHeader() and fromHeader() reject the unquoted non-token display names.
        {"baddn.dat",
         [](const std::string& d) {
             Outcome o = parseRejected(d, "header section not terminated");
             Message m = parseOk(d + "\r\n");
             CHECK_FALSE(toHeader(m).ok());
             CHECK_FALSE(fromHeader(m).ok());
             CHECK_FALSE(validateRequest(m).ok());
             return o;
         }},
        {"badvers.dat",
         [](const std::string& d) {
             CHECK(parseOk(d).version() == "SIP/7.0");
             return requestSemanticallyRejected(d, "unsupported SIP version 'SIP/7.0'");
         }},
        {"mismatch01.dat",
         [](const std::string& d) {
             return requestSemanticallyRejected(d, "CSeq method 'INVITE' does not match request method 'OPTIONS'");
         }},
        {"mismatch02.dat",
         [](const std::string& d) {
             return requestSemanticallyRejected(d, "CSeq method 'INVITE' does not match request method 'NEWMETHOD'");
         }},
        {"bigcode.dat", [](const std::string& d) { return parseRejected(d, "status code"); }},
        {"badbranch.dat",
         [](const std::string& d) {
             Message m = acceptedMessage(d);
             CHECK(vias(m)->at(0).branch() == "z9hG4bK");
             return Outcome::Accepted;
         }},
        {"insuf.dat",
         [](const std::string& d) {
             Message m = parseOk(d);
             CHECK_FALSE(callId(m).ok());
             CHECK_FALSE(fromHeader(m).ok());
             CHECK_FALSE(toHeader(m).ok());
             return requestSemanticallyRejected(d, "missing");
         }},
        {"unkscm.dat",
         [](const std::string& d) {
             Message m = acceptedMessage(d);
             CHECK_FALSE(m.requestUri().isSip());
             CHECK(m.requestUri().scheme == "nobodyKnowsThisScheme");
             CHECK(m.requestUri().opaque == "totallyopaquecontent");
             return Outcome::Accepted;
         }},
        {"novelsc.dat",
         [](const std::string& d) {
             Message m = acceptedMessage(d);
             CHECK(m.requestUri().scheme == "soap.beep");
             CHECK(m.requestUri().opaque == "//192.0.2.103:3002");
             return Outcome::Accepted;
         }},
        {"unksm2.dat",
         [](const std::string& d) {
             Message m = acceptedMessage(d);
             CHECK(toHeader(m)->uri.scheme == "isbn");
             CHECK(toHeader(m)->uri.opaque == "2983792873");
             CHECK(fromHeader(m)->uri.scheme == "http");
             CHECK(fromHeader(m)->tag() == "3234233");
             auto c = contacts(m);
             REQUIRE(c->size() == 1);
             CHECK((*c)[0].address.uri.scheme == "name");
             CHECK((*c)[0].address.uri.opaque == "John_Smith");
             return Outcome::Accepted;
         }},
        {"bext01.dat",
         [](const std::string& d) {
             Message m = acceptedMessage(d);
             CHECK(require(m) == std::vector<std::string_view>{"nothingSupportsThis", "nothingSupportsThisEither"});
             CHECK(*m.header(HeaderId::ProxyRequire) == "noProxiesSupportThis, norDoAnyProxiesSupportThis");
             return Outcome::Accepted;
         }},
        {"invut.dat",
         [](const std::string& d) {
             Message m = acceptedMessage(d);
             CHECK(*m.header(HeaderId::ContentType) == "application/unknownformat");
             CHECK(m.body().size() == 40);
             return Outcome::Accepted;
         }},
        {"regaut01.dat",
         [](const std::string& d) {
             Message m = acceptedMessage(d);
             auto a = parseAuthValues(*m.header(HeaderId::Authorization));
             REQUIRE(a.ok());
             REQUIRE(a->size() == 1);
             CHECK((*a)[0].scheme == "NoOneKnowsThisScheme");
             CHECK((*a)[0].params.find("opaque-data")->value == "here");
             return Outcome::Accepted;
         }},
        {"multi01.dat",
         [](const std::string& d) { return requestSemanticallyRejected(d, "more than one"); }},
        {"mcl01.dat", [](const std::string& d) { return parseRejected(d, "conflicting Content-Length values"); }},
        {"bcast.dat",
         [](const std::string& d) {
             Message m = acceptedMessage(d);
             auto v = vias(m);
             REQUIRE(v->size() == 2);
             CHECK((*v)[1].host == "255.255.255.255");
             return Outcome::Accepted;
         }},
        {"zeromf.dat",
         [](const std::string& d) {
             Message m = acceptedMessage(d);
             CHECK(**maxForwards(m) == 0);
             return Outcome::Accepted;
         }},
        {"cparam01.dat",
         [](const std::string& d) {
             Message m = acceptedMessage(d);
             auto c = contacts(m);
             REQUIRE(c->size() == 1);
             CHECK((*c)[0].address.uri.user == "+19725552222");
             CHECK((*c)[0].address.uri.host == "gw1.example.net");
             CHECK((*c)[0].address.uri.params.empty());
             CHECK((*c)[0].address.params.has("unknownparam"));
             return Outcome::Accepted;
         }},
        {"cparam02.dat",
         [](const std::string& d) {
             Message m = acceptedMessage(d);
             auto c = contacts(m);
             REQUIRE(c->size() == 1);
             CHECK((*c)[0].address.uri.param("unknownparam").has_value());
             CHECK((*c)[0].address.params.items.empty());
             return Outcome::Accepted;
         }},
        {"regescrt.dat",
         [](const std::string& d) {
             Message m = acceptedMessage(d);
             auto c = contacts(m);
             REQUIRE(c->size() == 1);
             CHECK((*c)[0].address.uri.headers == "Route=%3Csip:sip.example.com%3E");
             CHECK(decoded((*c)[0].address.uri.headers) == "Route=<sip:sip.example.com>");
             return Outcome::Accepted;
         }},
        {"sdp01.dat",
         [](const std::string& d) {
             Message m = acceptedMessage(d);
             CHECK(*m.header(HeaderId::Accept) == "text/nobodyKnowsThis");
             CHECK(m.body().size() == 150);
             return Outcome::Accepted;
         }},
        // No Content-Length: the body is the rest of the datagram.
        {"inv2543.dat",
         [](const std::string& d) {
             Message m = acceptedMessage(d);
             CHECK_FALSE(contentLength(m)->has_value());
             CHECK(m.body().size() == d.size() - (d.find("\r\n\r\n") + 4));
             CHECK(vias(m)->at(0).branch().empty());
             CHECK(fromHeader(m)->tag().empty());
             CHECK_FALSE(maxForwards(m)->has_value());
             return Outcome::Accepted;
         }},
        // Not described by the RFC: only "must not crash". It has no SIP-Version; we reject it.
        {"test.dat", [](const std::string& d) { return parseRejected(d, "line 1"); }},
    };
    return kChecks;
}

}  // namespace

TEST_CASE("RFC 4475: every manifest row is tested and meets its expectation") {
    const auto rows = readManifest("rfc4475/MANIFEST.tsv");
    CHECK(rows.size() == 50);
    std::set<std::string> seen;
    for (const Row& row : rows) {
        INFO("file " << row.file << " (" << row.expectation << ")");
        seen.insert(row.file);
        auto it = checks().find(row.file);
        REQUIRE_MESSAGE(it != checks().end(), "no check for manifest row " << row.file);
        const std::string bytes = readDataFile("rfc4475/" + row.file);
        const Outcome got = it->second(bytes);
        if (row.expectation == "accept") {
            CHECK(got == Outcome::Accepted);
        } else if (row.expectation == "reject" || row.expectation == "reject-semantic") {
            CHECK(got == Outcome::Rejected);
        } else if (row.expectation == "reject-or-tolerate" || row.expectation == "n/a") {
            // Either outcome is allowed; the check above asserts the one chosen.
        } else {
            FAIL_CHECK("unknown expectation '" << row.expectation << "'");
        }
        if (row.expectation == "reject-semantic") CHECK(parseDatagram(bytes).ok());
    }
    CHECK(seen.size() == checks().size());
}

TEST_CASE("RFC 4475: every .dat file is listed in the manifest") {
    std::set<std::string> listed;
    for (const Row& row : readManifest("rfc4475/MANIFEST.tsv")) listed.insert(row.file);
    std::size_t files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dataPath("rfc4475"))) {
        if (entry.path().extension() != ".dat") continue;
        ++files;
        CHECK_MESSAGE(listed.count(entry.path().filename().string()) == 1, entry.path().filename().string());
    }
    CHECK(files == listed.size());
}

TEST_CASE("RFC 4475: every message also frames on a stream without crashing") {
    for (const Row& row : readManifest("rfc4475/MANIFEST.tsv")) {
        INFO(row.file);
        const std::string bytes = readDataFile("rfc4475/" + row.file);
        StreamFramer f;
        auto out = f.feed(bytes);
        if (out.ok()) {
            for (const auto& m : out->messages) CHECK(m.raw().size() <= bytes.size());
        } else {
            CHECK_FALSE(out.error().message.empty());
        }
    }
}
