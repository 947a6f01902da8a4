#pragma once
// Helpers for the auth tests: challenge values parsed from header text, and credential values
// parsed back from what the session produced.
#include <doctest/doctest.h>

#include <cctype>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sip/typed_headers.h"

namespace sipreg::auth::test {

// Each string is one WWW-Authenticate / Proxy-Authenticate header value; the AuthValues point
// into heap copies kept here, so they stay valid while this object lives.
class ParsedChallenges {
public:
    explicit ParsedChallenges(std::vector<std::string> headerValues) {
        for (auto& text : headerValues) {
            storage_.push_back(std::make_unique<std::string>(std::move(text)));
            auto parsed = sip::parseAuthValues(*storage_.back());
            REQUIRE_MESSAGE(parsed.ok(), "test challenge does not parse: ", *storage_.back());
            for (auto& v : parsed.value()) values_.push_back(std::move(v));
        }
    }
    const std::vector<sip::AuthValue>& values() const { return values_; }

private:
    std::vector<std::unique_ptr<std::string>> storage_;
    std::vector<sip::AuthValue> values_;
};

struct ParsedCredentials {
    std::string scheme;
    std::map<std::string, std::string> params;  // lower-case name -> unquoted value
    bool has(const std::string& name) const { return params.count(name) != 0; }
    const std::string& at(const std::string& name) const {
        auto it = params.find(name);
        REQUIRE_MESSAGE(it != params.end(), "missing parameter ", name);
        return it->second;
    }
};

// Parses an Authorization value with the SIP library's own parser (the round trip a
// registrar performs).
inline ParsedCredentials parseCredentials(const std::string& value) {
    auto parsed = sip::parseAuthValues(value);
    REQUIRE_MESSAGE(parsed.ok(), "credentials do not parse: ", value);
    REQUIRE(parsed.value().size() == 1);
    const sip::AuthValue& v = parsed.value().front();
    ParsedCredentials out;
    out.scheme = std::string(v.scheme);
    for (const auto& p : v.params.items) {
        std::string name(p.name);
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        REQUIRE_MESSAGE(out.params.count(name) == 0, "duplicate parameter ", name);
        auto unq = v.params.unquoted(p.name);
        REQUIRE(unq.has_value());
        out.params[name] = *unq;
    }
    return out;
}

}  // namespace sipreg::auth::test
