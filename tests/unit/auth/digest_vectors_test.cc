// Every vector of tests/data/digest/vectors.yaml, plus the RFC 7616 3.9.2 userhash.
#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "auth/digest_response.h"
#include "support/test_data.h"

using namespace sipreg::auth;

namespace {

// One vector: field name -> value, nullopt for `null`.
using Vector = std::map<std::string, std::optional<std::string>>;

// The vectors file is line-parseable by design: `  - name: value` opens a vector,
// `    name: value` continues it, and every value is a JSON string or null.
std::vector<Vector> readVectors(const std::string& path) {
    std::ifstream in(path);
    REQUIRE_MESSAGE(in.good(), "cannot open ", path);
    std::vector<Vector> out;
    bool inVectors = false;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        if (line == "vectors:") {
            inVectors = true;
            continue;
        }
        REQUIRE_MESSAGE(inVectors, "unexpected line before 'vectors:': ", line);
        std::size_t start = line.find_first_not_of(' ');
        REQUIRE_MESSAGE(start != std::string::npos, "blank line inside the vectors: ", line);
        if (line.compare(start, 2, "- ") == 0) {
            out.emplace_back();
            start += 2;
        }
        REQUIRE_MESSAGE(!out.empty(), "field before the first vector: ", line);
        const std::size_t colon = line.find(": ", start);
        REQUIRE_MESSAGE(colon != std::string::npos, "not a 'name: value' line: ", line);
        const std::string name = line.substr(start, colon - start);
        const auto value = nlohmann::json::parse(line.substr(colon + 2));
        REQUIRE_MESSAGE((value.is_null() || value.is_string()), "value is neither a string nor null: ", line);
        const bool fresh = out.back()
                               .emplace(name, value.is_null() ? std::nullopt
                                                              : std::optional<std::string>(value.get<std::string>()))
                               .second;
        REQUIRE_MESSAGE(fresh, "field given twice: ", name);
    }
    return out;
}

std::optional<std::string> field(const Vector& v, const char* name) {
    const auto it = v.find(name);
    if (it == v.end()) return std::nullopt;
    return it->second;
}

std::string required(const Vector& v, const char* name) {
    auto value = field(v, name);
    REQUIRE_MESSAGE(value.has_value(), "vector field missing: ", name);
    return *value;
}

}  // namespace

TEST_CASE("every vector in digest/vectors.yaml gives its expected response") {
    const std::vector<Vector> vectors = readVectors(sipreg::test::dataPath("digest/vectors.yaml"));
    CHECK(vectors.size() == 19);

    std::size_t checked = 0;
    bool sawCorrectedSha512 = false;
    for (const Vector& v : vectors) {
        const std::string id = required(v, "id");
        CAPTURE(id);
        auto algorithm = parseDigestAlgorithm(required(v, "algorithm"));
        REQUIRE(algorithm.has_value());

        const std::string username = required(v, "username");
        const std::string realm = required(v, "realm");
        auto ha1 = computeHa1(*algorithm, username, realm, required(v, "password"));
        REQUIRE(ha1.ok());

        const auto qopText = field(v, "qop");
        Qop qop = Qop::None;
        if (qopText == "auth") qop = Qop::Auth;
        if (qopText == "auth-int") qop = Qop::AuthInt;
        REQUIRE((qopText.has_value() == (qop != Qop::None)));
        const std::string cnonce = field(v, "cnonce").value_or("");
        const std::string nc = field(v, "nc").value_or("");
        const std::string body = field(v, "entity_body").value_or("");
        if (qop == Qop::AuthInt) REQUIRE(field(v, "entity_body").has_value());

        const std::string nonce = required(v, "nonce");
        const std::string method = required(v, "method");
        const std::string uri = required(v, "uri");
        DigestResponseInput in;
        in.algorithm = *algorithm;
        in.ha1 = ha1.value();
        in.nonce = nonce;
        in.method = method;
        in.uri = uri;
        in.qop = qop;
        in.cnonce = cnonce;
        in.nc = nc;
        in.body = body;
        auto response = computeResponse(in);
        REQUIRE(response.ok());
        CHECK(response.value() == required(v, "expected_response"));
        ++checked;
        if (id == "rfc7616-3.9.2-sha512-256-auth-corrected") sawCorrectedSha512 = true;
    }
    CHECK(checked == 19);
    CHECK(sawCorrectedSha512);
}

TEST_CASE("auth-int vectors depend on the body") {
    // sip-md5-auth-int-body with a different body must not give the vector's response.
    auto ha1 = computeHa1(DigestAlgorithm::Md5, "alice", "example.com", "s3cr3t-P@ss");
    REQUIRE(ha1.ok());
    DigestResponseInput in;
    in.algorithm = DigestAlgorithm::Md5;
    in.ha1 = ha1.value();
    in.nonce = "b6e5a3c4d1f2a7e8c9d0b1a2f3e4d5c6";
    in.method = "REGISTER";
    in.uri = "sip:example.com";
    in.qop = Qop::AuthInt;
    in.cnonce = "0a4f113b";
    in.nc = "00000001";
    in.body = "hello\r\nworld\r\n";
    auto withBody = computeResponse(in);
    in.body = "hello\r\nworld!\r\n";
    auto otherBody = computeResponse(in);
    REQUIRE(withBody.ok());
    REQUIRE(otherBody.ok());
    CHECK(withBody.value() == "63af434258b4cccb797046c03cae98ae");
    CHECK(otherBody.value() != withBody.value());
}

TEST_CASE("RFC 7616 3.9.2 userhash with real SHA-512/256") {
    // printf '%s' 'Jäsøn Doe:api@example.org' | openssl dgst -sha512-256
    auto userhash = computeUserhash(DigestAlgorithm::Sha512_256, "J\xC3\xA4s\xC3\xB8n Doe", "api@example.org");
    REQUIRE(userhash.ok());
    CHECK(userhash.value() == "793263caabb707a56211940d90411ea4a575adeccb7e360aeb624ed06ece9b0b");
    // The RFC's printed 488869477bf257147b804c45308cd62ac4e25eb717b12b298c79e62dcea254ec is
    // truncated SHA-512, which a correct SHA-512/256 must not reproduce.
    CHECK(userhash.value() != "488869477bf257147b804c45308cd62ac4e25eb717b12b298c79e62dcea254ec");
    // The -sess variant hashes the username the same way.
    auto sess = computeUserhash(DigestAlgorithm::Sha512_256Sess, "J\xC3\xA4s\xC3\xB8n Doe", "api@example.org");
    REQUIRE(sess.ok());
    CHECK(sess.value() == userhash.value());
}

TEST_CASE("HA1 is H(user:realm:password) with the base hash, also for -sess") {
    // RFC 2617 3.5: HA1 of Mufasa:testrealm@host.com:Circle Of Life.
    auto md5 = computeHa1(DigestAlgorithm::Md5, "Mufasa", "testrealm@host.com", "Circle Of Life");
    auto md5sess = computeHa1(DigestAlgorithm::Md5Sess, "Mufasa", "testrealm@host.com", "Circle Of Life");
    REQUIRE(md5.ok());
    REQUIRE(md5sess.ok());
    CHECK(md5.value() == "939e7578ed9e3c518a452acee763bce9");
    CHECK(md5sess.value() == md5.value());
}
