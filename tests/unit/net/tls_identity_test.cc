// RFC 5922 7.1 identity rules, checked directly against minted certificates.
#include <doctest/doctest.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "net/tls_identity.h"
#include "tls_support/test_pki.h"

using namespace sipreg::net;
using namespace sipreg::net::testing;

namespace {

const TestCa& ca() {
    static const TestCa instance("Identity Test CA");
    return instance;
}

bool accepts(const CertificateSpec& spec, const std::string& serverName) {
    const Credential leaf = ca().issue(spec);
    return checkServerIdentity(leaf.cert.get(), parseTlsPeerName(serverName)).ok();
}

}  // namespace

TEST_CASE("a dNSName equal to the server name matches, ignoring case and a trailing dot") {
    const CertificateSpec spec{"", {"DNS:sip.example.com"}};
    CHECK(accepts(spec, "sip.example.com"));
    CHECK(accepts(spec, "SIP.Example.COM"));
    CHECK(accepts(spec, "sip.example.com."));
    CHECK_FALSE(accepts(spec, "example.com"));
    CHECK_FALSE(accepts(spec, "a.sip.example.com"));
    CHECK_FALSE(accepts(spec, "sip.example.co"));
}

TEST_CASE("wildcard dNSNames never match") {
    const CertificateSpec spec{"", {"DNS:*.example.com"}};
    CHECK_FALSE(accepts(spec, "sip.example.com"));
    CHECK_FALSE(accepts(spec, "example.com"));
    const Credential leaf = ca().issue(spec);
    auto result = checkServerIdentity(leaf.cert.get(), parseTlsPeerName("sip.example.com"));
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().message == "expected sip.example.com; peer certificate is for DNS:*.example.com");
}

TEST_CASE("a URI subjectAltName sip:<domain> matches; other URIs do not") {
    CHECK(accepts({"", {"URI:sip:example.com"}}, "example.com"));
    CHECK(accepts({"", {"URI:SIP:Example.com"}}, "example.com"));
    CHECK_FALSE(accepts({"", {"URI:sips:example.com"}}, "example.com"));
    CHECK_FALSE(accepts({"", {"URI:sip:alice@example.com"}}, "example.com"));
    CHECK_FALSE(accepts({"", {"URI:sip:example.com:5061"}}, "example.com"));
    CHECK_FALSE(accepts({"", {"URI:sip:example.com;transport=tls"}}, "example.com"));
    CHECK_FALSE(accepts({"", {"URI:https://example.com"}}, "example.com"));
}

TEST_CASE("the subject CN counts only when there is no DNS or URI subjectAltName") {
    CHECK(accepts({"sip.example.com", {}}, "sip.example.com"));
    CHECK(accepts({"sip.example.com", {"IP:192.0.2.1"}}, "sip.example.com"));
    CHECK_FALSE(accepts({"sip.example.com", {"DNS:other.example.com"}}, "sip.example.com"));
    CHECK_FALSE(accepts({"sip.example.com", {"URI:sip:other.example.com"}}, "sip.example.com"));
    CHECK_FALSE(accepts({"*.example.com", {}}, "sip.example.com"));
}

TEST_CASE("IP literal server names are checked against iPAddress subjectAltNames only") {
    CHECK(accepts({"", {"IP:127.0.0.1"}}, "127.0.0.1"));
    CHECK(accepts({"", {"IP:::1"}}, "::1"));
    CHECK(accepts({"", {"IP:::1"}}, "[::1]"));
    CHECK(accepts({"", {"DNS:sip.example.com", "IP:2001:db8::5"}}, "2001:db8:0::5"));
    CHECK_FALSE(accepts({"", {"IP:127.0.0.2"}}, "127.0.0.1"));
    CHECK_FALSE(accepts({"", {"IP:::1"}}, "127.0.0.1"));
    CHECK_FALSE(accepts({"", {"DNS:127.0.0.1"}}, "127.0.0.1"));
    CHECK_FALSE(accepts({"127.0.0.1", {}}, "127.0.0.1"));
    CHECK_FALSE(accepts({"", {"DNS:sip.example.com"}}, "fe80::1%eth0"));
}

TEST_CASE("a dNSName with an embedded NUL matches nothing") {
    Credential leaf = ca().issue({"", {}});
    GENERAL_NAMES* names = GENERAL_NAMES_new();
    GENERAL_NAME* name = GENERAL_NAME_new();
    ASN1_IA5STRING* value = ASN1_IA5STRING_new();
    static constexpr char kTricky[] = "sip.example.com\0.evil.test";
    ASN1_STRING_set(value, kTricky, sizeof kTricky - 1);
    GENERAL_NAME_set0_value(name, GEN_DNS, value);
    sk_GENERAL_NAME_push(names, name);
    REQUIRE(X509_add1_ext_i2d(leaf.cert.get(), NID_subject_alt_name, names, 0, 0) == 1);
    GENERAL_NAMES_free(names);

    auto result = checkServerIdentity(leaf.cert.get(), parseTlsPeerName("sip.example.com"));
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().message.find("DNS:sip.example.com\\x00.evil.test") != std::string::npos);
}

TEST_CASE("the mismatch message lists what the certificate names, bounded") {
    std::vector<std::string> many;
    for (int i = 0; i < 20; ++i) many.push_back("DNS:host" + std::to_string(i) + ".example");
    const Credential leaf = ca().issue({"", many});
    auto result = checkServerIdentity(leaf.cert.get(), parseTlsPeerName("sip.example.com"));
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().message.find("host7.example") != std::string::npos);
    CHECK(result.error().message.find("host8.example") == std::string::npos);
    CHECK(result.error().message.find("(20 names)") != std::string::npos);
}

TEST_CASE("server names: IP literals are recognised and never sent as SNI") {
    CHECK(parseTlsPeerName("192.0.2.1").ipLiteral);
    CHECK(parseTlsPeerName("192.0.2.1").ipLength == 4);
    CHECK(parseTlsPeerName("[2001:db8::1]").ipLength == 16);
    CHECK(parseTlsPeerName("[2001:db8::1]").name == "2001:db8::1");
    CHECK_FALSE(parseTlsPeerName("sip.example.com").ipLiteral);
    CHECK(parseTlsPeerName("sip.example.com.").name == "sip.example.com");
    CHECK(sniAllowed(parseTlsPeerName("sip.example.com")));
    CHECK_FALSE(sniAllowed(parseTlsPeerName("192.0.2.1")));
    CHECK_FALSE(sniAllowed(parseTlsPeerName("::1")));
    CHECK_FALSE(sniAllowed(parseTlsPeerName("")));
    CHECK_FALSE(sniAllowed(parseTlsPeerName("bad name")));
}

TEST_CASE("an empty server name matches nothing, not even an empty dNSName") {
    const Credential leaf = ca().issue({"", {"DNS:sip.example.com"}});
    CHECK_FALSE(checkServerIdentity(leaf.cert.get(), parseTlsPeerName("")).ok());
}
