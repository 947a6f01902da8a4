// Inputs that once crashed or misbehaved under the fuzzers (tests/fuzz); each must now give a
// clean result. The list is extended as the fuzzers find new cases.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "sip/stream_framer.h"
#include "sip/typed_headers.h"
#include "sip/validate.h"

using namespace sipreg::sip;

namespace {

// Exercises everything the fuzz target does; returns whether parseDatagram accepted the input.
bool runAll(std::string_view input) {
    auto m = parseDatagram(input);
    if (!m) return false;
    (void)vias(*m);
    (void)fromHeader(*m);
    (void)toHeader(*m);
    (void)callId(*m);
    (void)cseq(*m);
    (void)contacts(*m);
    (void)expires(*m);
    (void)minExpires(*m);
    (void)retryAfter(*m);
    (void)maxForwards(*m);
    (void)contentLength(*m);
    (void)wwwAuthenticate(*m);
    (void)proxyAuthenticate(*m);
    (void)authenticationInfo(*m);
    (void)supported(*m);
    (void)require(*m);
    (void)allow(*m);
    if (m->isRequest()) (void)validateRequest(*m);
    return true;
}

}  // namespace

TEST_CASE("edge inputs found while fuzzing do not crash") {
    struct Case {
        std::string input;
        bool parses;
    };
    const std::vector<Case> cases = {
        {"", false},
        {std::string(1, '\0'), false},
        {"\r", false},
        {"SIP/2.0 200 OK\r\n\r\n", true},
        {"A sip:a SIP/2.0\r\nv:\r\n\r\n", true},
    };
    for (const auto& c : cases) {
        INFO("input size " << c.input.size());
        CHECK(runAll(c.input) == c.parses);
        StreamFramer f;
        (void)f.feed(c.input);
    }
}
