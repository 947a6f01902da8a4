#include <doctest/doctest.h>

#include <string>

#include "control/request.h"

using namespace sipreg::control;

TEST_CASE("every command parses with its arguments") {
    auto status = parseRequest(R"({"cmd":"status"})");
    REQUIRE(status.ok());
    CHECK(status->command == Command::Status);

    auto show = parseRequest(R"({"cmd":"show","line":"alice"})");
    REQUIRE(show.ok());
    CHECK(show->command == Command::Show);
    CHECK(show->line == "alice");

    auto one = parseRequest(R"({"cmd":"refresh","line":"bob"})");
    REQUIRE(one.ok());
    CHECK(one->command == Command::Refresh);
    CHECK(one->line == "bob");
    CHECK_FALSE(one->all);

    auto all = parseRequest(R"({"cmd":"refresh","all":true})");
    REQUIRE(all.ok());
    CHECK(all->all);
    CHECK_FALSE(all->line.has_value());

    CHECK(parseRequest(R"({"cmd":"reload"})")->command == Command::Reload);
    CHECK(parseRequest(R"({"cmd":"check"})")->command == Command::Check);

    auto traceAll = parseRequest(R"({"cmd":"trace","line":null})");
    REQUIRE(traceAll.ok());
    CHECK(traceAll->command == Command::Trace);
    CHECK_FALSE(traceAll->line.has_value());
    auto traceOne = parseRequest(R"({"cmd":"trace","line":"carol"})");
    REQUIRE(traceOne.ok());
    CHECK(traceOne->line == "carol");
    CHECK(parseRequest(R"({"cmd":"trace"})").ok());
}

TEST_CASE("malformed requests are errors that say what is wrong") {
    auto message = [](const char* text) {
        auto r = parseRequest(text);
        REQUIRE_FALSE(r.ok());
        return r.error().message;
    };
    CHECK(message("{\"cmd\":") == "request is not valid JSON");
    CHECK(message("") == "request is not valid JSON");
    CHECK(message("[1,2]").find("must be a JSON object") != std::string::npos);
    CHECK(message("\"status\"").find("must be a JSON object") != std::string::npos);
    CHECK(message("{}") == "request has no \"cmd\"");
    CHECK(message(R"({"cmd":5})") == "\"cmd\" must be a string");
    CHECK(message(R"({"cmd":"stop"})").find("unknown command \"stop\"") != std::string::npos);
    CHECK(message(R"({"cmd":"show"})").find("show needs \"line\"") != std::string::npos);
    CHECK(message(R"({"cmd":"show","line":7})") == "\"line\" must be a string (a line id)");
    CHECK(message(R"({"cmd":"show","line":""})") == "\"line\" must not be empty");
    CHECK(message(R"({"cmd":"refresh"})").find("either \"line\" or \"all\"") != std::string::npos);
    CHECK(message(R"({"cmd":"refresh","line":"a","all":true})").find("either") != std::string::npos);
    CHECK(message(R"({"cmd":"refresh","all":false})").find("either") != std::string::npos);
    CHECK(message(R"({"cmd":"refresh","all":"yes"})") == "\"all\" must be true or false");
    CHECK(message(R"({"cmd":"status","verbose":true})") == "unknown key \"verbose\" for status");
}

TEST_CASE("deep nesting is refused before parsing; brackets inside strings do not count") {
    const std::string deep = std::string(60000, '[') + std::string(60000, ']');
    auto r = parseRequest(deep);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message == "request nested too deeply");
    auto inString = parseRequest(R"({"cmd":"show","line":"[[[[[[[[[[[[[[{{{{{{{{{"})");
    REQUIRE(inString.ok());
    CHECK(inString->line == "[[[[[[[[[[[[[[{{{{{{{{{");
}

TEST_CASE("bytes that are not UTF-8 are an error, not an exception") {
    const std::string bad = std::string("{\"cmd\":\"show\",\"line\":\"") + "\xff\xfe" + "\"}";
    auto r = parseRequest(bad);
    CHECK_FALSE(r.ok());
}
