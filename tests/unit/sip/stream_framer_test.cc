#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "sip/stream_framer.h"
#include "sip/typed_headers.h"
#include "sip_test_util.h"

using namespace sipreg::sip;
using sipreg::sip::test::contains;
using sipreg::sip::test::crlf;

namespace {

const std::string kFirst = crlf({"REGISTER sip:example.com SIP/2.0", "Via: SIP/2.0/TCP h;branch=z9hG4bK1",
                                 "Call-ID: first", "CSeq: 1 REGISTER", "Content-Length: 4", ""}) +
                           "ab\r\n";
const std::string kSecond = crlf({"SIP/2.0 200 OK", "i: second", "CSeq: 1 REGISTER", "l: 0", ""});

struct Collected {
    std::vector<std::string> rawMessages;
    std::vector<std::string> bodies;
    std::size_t pings = 0;
    std::size_t pongs = 0;
};

Collected feedAll(StreamFramer& f, const std::vector<std::string_view>& chunks) {
    Collected c;
    for (auto chunk : chunks) {
        auto out = f.feed(chunk);
        REQUIRE(out.ok());
        for (const auto& m : out->messages) {
            c.rawMessages.emplace_back(m.raw());
            c.bodies.emplace_back(m.body());
        }
        c.pings += out->pings;
        c.pongs += out->pongs;
    }
    return c;
}

}  // namespace

TEST_CASE("several messages and keep-alives in one read") {
    StreamFramer f;
    const std::string stream = "\r\n\r\n" + kFirst + "\r\n" + kSecond + "\r\n\r\n" + kFirst;
    auto out = f.feed(stream);
    REQUIRE(out.ok());
    REQUIRE(out->messages.size() == 3);
    CHECK(out->messages[0].raw() == kFirst);
    CHECK(out->messages[0].body() == "ab\r\n");
    CHECK(*callId(out->messages[1]) == "second");
    CHECK(out->messages[1].statusCode() == 200);
    CHECK(out->messages[2].raw() == kFirst);
    CHECK(out->pings == 2);
    CHECK(out->pongs == 1);
    CHECK(f.buffered() == 0);
}

TEST_CASE("split at every byte position of two messages with keep-alives between") {
    const std::string stream = kFirst + "\r\n" + kSecond;
    for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
        INFO("cut at " << cut);
        StreamFramer f;
        Collected c = feedAll(f, {std::string_view(stream).substr(0, cut), std::string_view(stream).substr(cut)});
        REQUIRE(c.rawMessages.size() == 2);
        CHECK(c.rawMessages[0] == kFirst);
        CHECK(c.rawMessages[1] == kSecond);
        CHECK(c.bodies[0] == "ab\r\n");
        CHECK(c.pongs == 1);
        CHECK(c.pings == 0);
        CHECK(f.buffered() == 0);
    }
}

TEST_CASE("split into three pieces at every pair of positions, ping in front") {
    const std::string stream = "\r\n\r\n" + kSecond + kFirst;
    for (std::size_t a = 4; a <= stream.size(); a += 3) {
        for (std::size_t b = a; b <= stream.size(); b += 5) {
            StreamFramer f;
            std::string_view s(stream);
            Collected c = feedAll(f, {s.substr(0, a), s.substr(a, b - a), s.substr(b)});
            REQUIRE(c.rawMessages.size() == 2);
            CHECK(c.rawMessages[0] == kSecond);
            CHECK(c.rawMessages[1] == kFirst);
            CHECK(c.pings == 1);
            CHECK(c.pongs == 0);
        }
    }
}

TEST_CASE("one byte at a time") {
    const std::string stream = kFirst + "\r\n\r\n" + kSecond + "\r\n";
    StreamFramer f;
    Collected c;
    for (char ch : stream) {
        auto out = f.feed(std::string_view(&ch, 1));
        REQUIRE(out.ok());
        for (const auto& m : out->messages) c.rawMessages.emplace_back(m.raw());
        c.pings += out->pings;
        c.pongs += out->pongs;
    }
    REQUIRE(c.rawMessages.size() == 2);
    CHECK(c.rawMessages[1] == kSecond);
    // A ping split across reads looks like two pongs: a lone CRLF is reported at once so that
    // a keep-alive answer is never held back.
    CHECK(c.pings * 2 + c.pongs == 3);
}

TEST_CASE("a lone CRLF pong is reported without waiting for more data") {
    StreamFramer f;
    auto out = f.feed("\r\n");
    REQUIRE(out.ok());
    CHECK(out->pongs == 1);
    CHECK(out->pings == 0);
    CHECK(f.buffered() == 0);
}

TEST_CASE("partial message stays buffered") {
    StreamFramer f;
    auto out = f.feed(kFirst.substr(0, kFirst.size() - 1));
    REQUIRE(out.ok());
    CHECK(out->messages.empty());
    CHECK(f.buffered() == kFirst.size() - 1);
    auto rest = f.feed(kFirst.substr(kFirst.size() - 1));
    REQUIRE(rest.ok());
    REQUIRE(rest->messages.size() == 1);
    CHECK(rest->messages[0].body() == "ab\r\n");
}

TEST_CASE("missing Content-Length on a stream is an error") {
    StreamFramer f;
    auto out = f.feed(crlf({"OPTIONS sip:a@b SIP/2.0", "Call-ID: x", ""}));
    REQUIRE_FALSE(out.ok());
    CHECK(out.error().message == "message on a stream without Content-Length");
}

TEST_CASE("malformed header section on a stream is an error with the stream offset") {
    StreamFramer f;
    const std::string bad = "\r\n" + crlf({"OPTIONS sip:a@b SIP/2.0", "no colon here", "l: 0", ""});
    auto out = f.feed(bad);
    REQUIRE_FALSE(out.ok());
    CHECK(out.error().message == "line 2: header without ':'");
    CHECK(out.error().offset == bad.find("no colon"));
}

TEST_CASE("stream limits: oversized header section and oversized Content-Length") {
    ParseLimits limits;
    limits.maxMessageBytes = 200;
    {
        StreamFramer f(limits);
        auto out = f.feed("OPTIONS sip:a@b SIP/2.0\r\nX: " + std::string(300, 'a'));
        REQUIRE_FALSE(out.ok());
        CHECK(contains(out.error().message, "longer than 200 bytes"));
    }
    {
        StreamFramer f(limits);
        auto out = f.feed(crlf({"OPTIONS sip:a@b SIP/2.0", "Content-Length: 500", ""}));
        REQUIRE_FALSE(out.ok());
        CHECK(contains(out.error().message, "larger than 200 bytes"));
    }
    {
        StreamFramer f;
        auto out = f.feed(crlf({"OPTIONS sip:a@b SIP/2.0", "Content-Length: -5", ""}));
        REQUIRE_FALSE(out.ok());
        CHECK(out.error().message.find("invalid Content-Length") == 0);
    }
}
