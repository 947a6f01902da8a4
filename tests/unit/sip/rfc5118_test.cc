// RFC 5118 IPv6 torture messages, driven by tests/data/rfc5118/MANIFEST.tsv. The archive files
// are not wire format (bare LF, some without the empty line, Content-Length values that do not
// match the bodies), so they are converted first: LF -> CRLF, the empty line appended when the
// header section is unterminated, and Content-Length set to the converted body's size.
#include <doctest/doctest.h>

#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "sip/typed_headers.h"
#include "sip/validate.h"
#include "sip_test_util.h"
#include "support/test_data.h"

using namespace sipreg::sip;
using sipreg::sip::test::contains;
using sipreg::sip::test::parseOk;

namespace {

std::string toWire(const std::string& archive) {
    std::string s;
    for (char c : archive) {
        if (c == '\n') s += '\r';
        s += c;
    }
    std::size_t end = s.find("\r\n\r\n");
    if (end == std::string::npos) {
        s += "\r\n";
        end = s.size() - 4;
    }
    const std::size_t bodySize = s.size() - (end + 4);
    const std::string key = "\r\nContent-Length: ";
    std::size_t cl = s.find(key);
    if (cl != std::string::npos && cl < end) {
        std::size_t valueStart = cl + key.size();
        std::size_t valueEnd = s.find("\r\n", valueStart);
        s.replace(valueStart, valueEnd - valueStart, std::to_string(bodySize));
    }
    return s;
}

std::vector<std::pair<std::string, std::string>> manifest() {
    std::ifstream in(sipreg::test::dataPath("rfc5118/MANIFEST.tsv"));
    REQUIRE(in.good());
    std::vector<std::pair<std::string, std::string>> rows;
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        std::stringstream ss(line);
        std::string file, section, title, group;
        std::getline(ss, file, '\t');
        std::getline(ss, section, '\t');
        std::getline(ss, title, '\t');
        std::getline(ss, group, '\t');
        rows.emplace_back(file, group);
    }
    return rows;
}

Message accepted(const std::string& wire) {
    Message m = parseOk(wire);
    auto v = m.isRequest() ? validateRequest(m) : validateResponse(m);
    if (!v) FAIL_CHECK("validation failed: " << v.error().message);
    return m;
}

using Check = std::function<void(const std::string&)>;

const std::map<std::string, Check>& checks() {
    static const std::map<std::string, Check> kChecks = {
        {"ipv6-good",
         [](const std::string& w) {
             Message m = accepted(w);
             CHECK(m.requestUri().hostIsIpv6);
             CHECK(m.requestUri().host == "2001:db8::10");
             CHECK_FALSE(m.requestUri().port.has_value());
             auto v = vias(m);
             CHECK((*v)[0].hostIsIpv6);
             CHECK((*v)[0].host == "2001:db8::9:1");
             auto c = contacts(m);
             CHECK((*c)[0].address.uri.host == "2001:db8::1");
             CHECK((*c)[0].address.uri.hostPort() == "[2001:db8::1]");
         }},
        // Rejected by the URI parser: "2001" is taken as the host and "db8::10" is no port.
        {"ipv6-bad",
         [](const std::string& w) {
             auto r = parseDatagram(w);
             REQUIRE_FALSE(r.ok());
             CHECK(contains(r.error().message, "Request-URI"));
             CHECK_FALSE(parseUri("sip:2001:db8::10").ok());
         }},
        {"port-ambiguous",
         [](const std::string& w) {
             Message m = accepted(w);
             CHECK(m.requestUri().host == "2001:db8::10:5070");
             CHECK_FALSE(m.requestUri().port.has_value());
         }},
        {"port-unambiguous",
         [](const std::string& w) {
             Message m = accepted(w);
             CHECK(m.requestUri().host == "2001:db8::10");
             CHECK(*m.requestUri().port == 5070);
         }},
        {"via-received-param-with-delim",
         [](const std::string& w) {
             Message m = accepted(w);
             auto v = vias(m);
             CHECK(*(*v)[0].received() == "[2001:db8::9:255]");
             CHECK((*v)[0].branch() == "z9hG4bKas3-111");
         }},
        {"via-received-param-no-delim",
         [](const std::string& w) {
             Message m = accepted(w);
             auto v = vias(m);
             CHECK(*(*v)[0].received() == "2001:db8::9:255");
             CHECK((*v)[0].branch() == "z9hG4bKas3");
         }},
        {"ipv6-in-sdp",
         [](const std::string& w) {
             Message m = accepted(w);
             CHECK(toHeader(m)->uri.host == "2001:db8::10");
             CHECK(vias(m)->at(0).host == "2001:db8::20");
             CHECK(contains(m.body(), "c=IN IP6 2001:db8::20"));
         }},
        {"mult-ip-in-header",
         [](const std::string& w) {
             Message m = accepted(w);
             auto v = vias(m);
             REQUIRE(v->size() == 3);
             CHECK((*v)[0].host == "2001:db8::9:1");
             CHECK(*(*v)[0].port == 6050);
             CHECK((*v)[1].host == "192.0.2.1");
             CHECK_FALSE((*v)[1].hostIsIpv6);
             CHECK((*v)[2].hostIsIpv6);
             CHECK(*(*v)[2].received() == "192.0.2.200");
         }},
        {"mult-ip-in-sdp",
         [](const std::string& w) {
             Message m = accepted(w);
             CHECK(contacts(m)->at(0).address.uri.host == "2001:db8::9:1");
             CHECK_FALSE(m.body().empty());
         }},
        {"ipv4-mapped-ipv6",
         [](const std::string& w) {
             Message m = accepted(w);
             auto v = vias(m);
             REQUIRE(v->size() == 2);
             CHECK((*v)[0].host == "::ffff:192.0.2.10");
             CHECK(*(*v)[0].port == 19823);
             CHECK((*v)[1].host == "::ffff:192.0.2.2");
             CHECK(contacts(m)->at(0).address.uri.host == "::ffff:192.0.2.2");
         }},
        // Tolerated as RFC 5118 4.10 asks, although the address is not valid IPv6.
        {"ipv6-bug-abnf-3-colons",
         [](const std::string& w) {
             Message m = accepted(w);
             CHECK(m.requestUri().host == "2001:db8:::192.0.2.1");
             CHECK(toHeader(m)->uri.hostIsIpv6);
         }},
        {"ipv6-correct-abnf-2-colons",
         [](const std::string& w) {
             Message m = accepted(w);
             CHECK(m.requestUri().host == "2001:db8::192.0.2.1");
             CHECK(toHeader(m)->uri.host == "2001:db8::192.0.2.1");
         }},
    };
    return kChecks;
}

}  // namespace

TEST_CASE("RFC 5118: every manifest row is tested") {
    const auto rows = manifest();
    CHECK(rows.size() == 12);
    for (const auto& [file, group] : rows) {
        INFO("file " << file << " (" << group << ")");
        auto it = checks().find(file);
        REQUIRE_MESSAGE(it != checks().end(), "no check for manifest row " << file);
        const std::string wire = toWire(sipreg::test::readDataFile("rfc5118/" + file));
        if (group == "invalid") CHECK_FALSE(parseDatagram(wire).ok());
        it->second(wire);
    }
}

TEST_CASE("RFC 5118 conversion: the raw archive bytes are not accepted as is where unterminated") {
    auto raw = parseDatagram(sipreg::test::readDataFile("rfc5118/ipv6-bug-abnf-3-colons"));
    REQUIRE_FALSE(raw.ok());
    CHECK(contains(raw.error().message, "not terminated"));
}
