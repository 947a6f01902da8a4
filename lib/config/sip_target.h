#pragma once
// Turns the URIs an operator writes (registrar, outbound proxy, AOR, contact) into the
// checked, pre-parsed values of the model. Messages never repeat a URI password.
#include <optional>
#include <string>
#include <string_view>

#include "config/model.h"
#include "util/result.h"

namespace sipreg::config {

struct ParsedTarget {
    SipTarget target;
    std::optional<Transport> transportParam;  // ";transport=" when present
};

// A registrar or outbound proxy: "sip:host[:port][;params]", "sips:...", or for
// convenience a bare "host[:port]" / "[v6]:port" which is read as "sip:...".
// userPartAllowed=false rejects "sip:user@host" (a registrar's Request-URI has no user).
Result<ParsedTarget> parseSipTarget(std::string_view text, bool userPartAllowed);

struct ParsedAor {
    std::string user;  // still percent-escaped; may be empty
    std::string userUnescaped;
    std::string host;
    bool hostIsIpv6 = false;
    bool secure = false;
};

// An address of record or a full contact: sip:/sips: with a host, no password, no headers.
Result<ParsedAor> parseAor(std::string_view text);

}  // namespace sipreg::config
