// Each class of error, with its exact position and key path.
#include <doctest/doctest.h>

#include <algorithm>

#include "config/loader.h"
#include "config_test_support.h"
#include "support/test_data.h"

using sipreg::config::LoadResult;
using sipreg::config::loadConfigFile;
using sipreg::config::test::issueTexts;
using sipreg::config::test::joined;
using sipreg::config::test::load;

namespace {

// The only error of a document that must have exactly one.
std::string onlyError(const LoadResult& result) {
    CHECK_FALSE(result.ok());
    REQUIRE_MESSAGE(result.errors.size() == 1, joined(result.errors));
    return result.errors[0].toString();
}

// A document with one line whose body is `body` (indented four spaces per line).
std::string oneLine(const std::string& body) { return "lines:\n  - id: a\n" + body; }

}  // namespace

TEST_CASE("unknown keys are reported at the key, with a did-you-mean hint when close") {
    CHECK(onlyError(load(oneLine("    aor: sip:a@example.net\n    expire: 600\n"))) ==
          "test.yaml:4:5: lines[0].expire: unknown key 'expire'; did you mean 'expires'?");
    CHECK(onlyError(load(oneLine("    aor: sip:a@example.net\n    user-agent: x\n"))) ==
          "test.yaml:4:5: lines[0].user-agent: unknown key 'user-agent'; did you mean 'user_agent'?");
    CHECK(onlyError(load("defaults:\n  retry: { base: 5s, maximum: 1m }\nlines: []\n")) ==
          "test.yaml:2:22: defaults.retry.maximum: unknown key 'maximum'; did you mean 'max'?");
    CHECK(onlyError(load("colour: blue\nlines: []\n")) ==
          "test.yaml:1:1: colour: unknown key 'colour' (expected listen, max_rate, start_spread, shutdown_timeout, "
          "log_level, invite_response, requests, dns, control, metrics, on_change, defaults or lines)");
    // Line-only keys are not settings defaults.
    CHECK(onlyError(load("defaults:\n  registrar: sip:x\nlines: []\n")).rfind(
              "test.yaml:2:3: defaults.registrar: unknown key 'registrar'", 0) == 0);
}

TEST_CASE("a key given twice in one map is an error") {
    CHECK(onlyError(load(oneLine("    aor: sip:a@example.net\n    expires: 60\n    expires: 70\n"))) ==
          "test.yaml:5:5: lines[0].expires: duplicate key 'expires' (first given at line 4)");
}

TEST_CASE("wrong types name what was expected and what was found") {
    CHECK(onlyError(load(oneLine("    aor: sip:a@example.net\n    expires: [1, 2]\n"))) ==
          "test.yaml:4:14: lines[0].expires: expected a duration (a whole number of seconds or numbers with units "
          "s, m, h, d (e.g. 600, 30s, 5m, 1h, 1h30m)), got a list");
    CHECK(onlyError(load(oneLine("    aor: sip:a@example.net\n    enabled: yes\n"))) ==
          "test.yaml:4:14: lines[0].enabled: expected true or false, got 'yes'");
    CHECK(onlyError(load(oneLine("    aor: { uri: x }\n"))) ==
          "test.yaml:3:10: lines[0].aor: expected a string, got a map");
    CHECK(onlyError(load("lines: { id: a }\n")) == "test.yaml:1:8: lines: expected a list of lines, got a map");
    CHECK(onlyError(load("lines:\n  - just-a-string\n")) ==
          "test.yaml:2:5: lines[0]: expected a map describing a line, got 'just-a-string'");
    CHECK(onlyError(load("max_rate: fast\nlines: []\n")) == "test.yaml:1:11: max_rate: expected a whole number, got 'fast'");
    CHECK(onlyError(load("log_level: informational\nlines: []\n")) ==
          "test.yaml:1:12: log_level: expected one of trace, debug, info, warn or error, got 'informational'; did you mean 'info'?");
    CHECK(onlyError(load(oneLine("    aor: sip:a@example.net\n    transport: tpc\n"))) ==
          "test.yaml:4:16: lines[0].transport: expected one of udp, tcp or tls, got 'tpc'; did you mean 'tcp'?");
}

TEST_CASE("durations: malformed forms list what is accepted; ranges are enforced") {
    CHECK(onlyError(load(oneLine("    aor: sip:a@example.net\n    expires: 5 minutes\n"))) ==
          "test.yaml:4:14: lines[0].expires: expected a duration: a whole number of seconds or numbers with units "
          "s, m, h, d (e.g. 600, 30s, 5m, 1h, 1h30m); got '5 minutes'");
    CHECK(onlyError(load(oneLine("    aor: sip:a@example.net\n    expires: 5s\n"))) ==
          "test.yaml:4:14: lines[0].expires: must be between 10s and 1d (got 5s)");
    CHECK(onlyError(load(oneLine("    aor: sip:a@example.net\n    expires: 2d\n"))) ==
          "test.yaml:4:14: lines[0].expires: must be between 10s and 1d (got 2d)");
    CHECK(onlyError(load("defaults:\n  keepalive: 2s\nlines: []\n")) ==
          "test.yaml:2:14: defaults.keepalive: must be between 5s and 1h (got 2s)");
    CHECK(onlyError(load("start_spread: -5s\nlines: []\n")).rfind("test.yaml:1:15: start_spread: expected a duration", 0) == 0);
    CHECK(onlyError(load(oneLine("    aor: sip:a@example.net\n    retry: { base: 5m, max: 1m }\n"))) ==
          "test.yaml:4:12: lines[0].retry: max (1m) must not be smaller than base (5m)");
    // A line raising base above the inherited max is caught too.
    CHECK(onlyError(load(oneLine("    aor: sip:a@example.net\n    retry: { base: 1h }\n"))) ==
          "test.yaml:4:12: lines[0].retry: max (30m) must not be smaller than base (1h)");
}

TEST_CASE("URIs: scheme, user part, brackets, transport") {
    CHECK(onlyError(load(oneLine("    aor: sip:a@example.net\n    registrar: tel:+15551234567\n"))) ==
          "test.yaml:4:16: lines[0].registrar: must be a sip: or sips: URI or host[:port] (got scheme 'tel')");
    CHECK(onlyError(load(oneLine("    aor: sip:a@example.net\n    registrar: sip:a@pbx.example.net\n"))) ==
          "test.yaml:4:16: lines[0].registrar: must not have a user part (the user belongs in aor)");
    CHECK(onlyError(load(oneLine("    aor: sip:a@example.net\n    registrar: 2001:db8::1\n"))) ==
          "test.yaml:4:16: lines[0].registrar: an IPv6 address needs brackets, e.g. [2001:db8::1]:5060");
    CHECK(onlyError(load(oneLine("    aor: sip:a@example.net\n    registrar: sip:pbx;transport=sctp\n"))) ==
          "test.yaml:4:16: lines[0].registrar: transport 'sctp' is not supported (expected udp, tcp or tls)");
    CHECK(onlyError(load(oneLine("    aor: mailto:a@example.net\n"))) ==
          "test.yaml:3:10: lines[0].aor: must be a sip: or sips: URI (got scheme 'mailto')");
    CHECK(onlyError(load(oneLine("    aor: sip:a:pw@example.net\n"))) ==
          "test.yaml:3:10: lines[0].aor: must not contain a password; put it under auth");
    const std::string noScheme = onlyError(load(oneLine("    aor: alice@example.net\n")));
    CHECK(noScheme.rfind("test.yaml:3:10: lines[0].aor: ", 0) == 0);
    CHECK(onlyError(load(oneLine("    aor: sip:a@example.net\n    transport: udp\n    registrar: sip:pbx;transport=tcp\n"))) ==
          "test.yaml:4:16: lines[0].transport: udp conflicts with ';transport=tcp' in registrar");
    CHECK(onlyError(load(oneLine("    aor: sip:a@example.net\n    transport: udp\n    registrar: sips:pbx\n"))) ==
          "test.yaml:4:16: lines[0].transport: a sips: URI needs transport tls (got udp)");
    CHECK(onlyError(load(oneLine("    aor: sip:a@example.net\n    contact: sip:x@h\n    contact_user: y\n"))) ==
          "test.yaml:5:5: lines[0].contact_user: give either contact or contact_user, not both");
    CHECK(onlyError(load(oneLine("    aor: sip:a@example.net\n    contact_user: \"a b\"\n"))) ==
          "test.yaml:4:19: lines[0].contact_user: 'a b' is not a valid SIP user part (escape other characters as %XX)");
}

TEST_CASE("missing required keys are reported at the map that lacks them") {
    CHECK(onlyError(load("lines:\n  - aor: sip:a@example.net\n")) ==
          "test.yaml:2:5: lines[0]: missing required key 'id' (a unique name for the line)");
    CHECK(onlyError(load("lines:\n  - id: a\n    registrar: sip:pbx\n")) ==
          "test.yaml:2:5: lines[0]: missing required key 'aor' (the address of record, e.g. sip:alice@example.net)");
    CHECK(onlyError(load("max_rate: 10\n")) ==
          "test.yaml:1:1: missing required key 'lines' (the list of lines to register)");
    CHECK(onlyError(load("")) == "test.yaml:1:1: expected a map with at least 'lines', got an empty value");
    CHECK(onlyError(load("- a\n- b\n")) == "test.yaml:1:1: expected a map with at least 'lines', got a list");
}

TEST_CASE("ids: charset and length") {
    CHECK(onlyError(load("lines:\n  - id: trunk a\n    aor: sip:a@example.net\n")) ==
          "test.yaml:2:9: lines[0].id: 'trunk a' may only contain letters, digits, '-', '_' and '.' (it is used in "
          "logs and metric labels)");
    CHECK(onlyError(load("lines:\n  - id: \"a{b}\"\n    aor: sip:a@example.net\n")).find("may only contain") !=
          std::string::npos);
    CHECK(onlyError(load("lines:\n  - id: " + std::string(65, 'x') + "\n    aor: sip:a@example.net\n")) ==
          "test.yaml:2:9: lines[0].id: must be at most 64 characters long");
}

TEST_CASE("duplicate ids name both places") {
    const auto result = loadConfigFile(sipreg::test::dataPath("configs/bad/duplicate_ids.yaml"));
    const std::string file = sipreg::test::dataPath("configs/bad/duplicate_ids.yaml");
    CHECK(onlyError(result) ==
          file + ":6:9: lines[2].id: duplicate line id 'alice' (first used by lines[0] at " + file + ":2:9)");
}

TEST_CASE("YAML syntax errors carry the parser's position") {
    const auto result = loadConfigFile(sipreg::test::dataPath("configs/bad/syntax.yaml"));
    const std::string file = sipreg::test::dataPath("configs/bad/syntax.yaml");
    // Line 5 holds a second ": " inside a plain value; column 29 is that colon.
    CHECK(onlyError(result) == file + ":5:29: YAML syntax error: mapping values are not allowed in this context");
    CHECK_FALSE(result.unreadable);
    // Errors found while inside a construct also say where that construct began.
    CHECK(onlyError(load("lines:\n  - { id: a, aor: sip:a@example.net\n")) ==
          "test.yaml:3:1: YAML syntax error: did not find expected ',' or '}' (while parsing a flow mapping at "
          "line 2, column 5)");
}

TEST_CASE("aliases, a second document and invalid UTF-8 are refused at their position") {
    CHECK(onlyError(load("defaults: &common\n  expires: 60\nlines:\n  - id: a\n    aor: sip:a@example.net\n"
                         "    nat: *common\n")) ==
          "test.yaml:6:10: YAML syntax error: aliases ('*name') are not supported; write the value out");
    CHECK(onlyError(load("lines: []\n---\nlines: []\n")) ==
          "test.yaml:2:1: YAML syntax error: only one YAML document is allowed, found a second one");
    CHECK(onlyError(load("lines:\n  - id: \xff\n")).rfind("test.yaml:2:9: YAML syntax error: ", 0) == 0);
}

TEST_CASE("plain null words are empty values, quoted ones are strings") {
    for (const char* word : {"~", "null", "Null", "NULL", ""}) {
        CAPTURE(word);
        CHECK(onlyError(load(oneLine(std::string("    aor: ") + word + "\n"))) ==
              "test.yaml:3:" + std::string(*word ? "10" : "9") + ": lines[0].aor: expected a string, got an empty value");
    }
    // Quoted, it is the text itself, which then is not a SIP URI.
    CHECK(onlyError(load(oneLine("    aor: \"null\"\n"))).find("lines[0].aor") != std::string::npos);
    CHECK(onlyError(load(oneLine("    aor: \"null\"\n"))).find("got an empty value") == std::string::npos);
    // Tags are ignored: the text is read as written.
    const auto tagged = load(oneLine("    aor: !!str sip:a@example.net\n    expires: !!int 60\n"));
    REQUIRE_MESSAGE(tagged.ok(), joined(tagged.errors));
    CHECK(tagged.config->lines[0].expires == std::chrono::seconds(60));
}

TEST_CASE("global settings: ranges, addresses, INVITE answer") {
    CHECK(onlyError(load("listen: { address: 0.0.0.0, port: 70000 }\nlines: []\n")) ==
          "test.yaml:1:35: listen.port: must be between 0 and 65535 (got 70000)");
    CHECK(onlyError(load("listen:\n  - { address: localhost }\nlines: []\n")) ==
          "test.yaml:2:16: listen[0].address: expected an IPv4 or IPv6 address such as 0.0.0.0 or ::, got 'localhost'");
    CHECK(onlyError(load("listen:\n  - { port: 5060 }\n  - { port: 5060 }\nlines: []\n")) ==
          "test.yaml:3:5: listen[1]: duplicate listen address 0.0.0.0 port 5060");
    CHECK(onlyError(load("invite_response: { code: 200 }\nlines: []\n")) ==
          "test.yaml:1:26: invite_response.code: must be between 400 and 699 (got 200)");
    CHECK(onlyError(load("invite_response: { reason: Busy }\nlines: []\n")) ==
          "test.yaml:1:18: invite_response: missing required key 'code' (a status code between 400 and 699)");
    CHECK(onlyError(load("max_rate: 0\nlines: []\n")) == "test.yaml:1:11: max_rate: must be between 1 and 100000 (got 0)");
    CHECK(onlyError(load("defaults:\n  user_agent: \"a\\r\\nX-Injected: 1\"\nlines: []\n")) ==
          "test.yaml:2:15: defaults.user_agent: must not contain control characters (line breaks, tabs)");
}

TEST_CASE("auth: exactly one secret source, HA1 shape, username derivable") {
    CHECK(onlyError(load(oneLine("    aor: sip:a@example.net\n    auth: { realm: r }\n"))) ==
          "test.yaml:4:11: lines[0].auth: missing a secret: give one of password, password_file, password_env or "
          "password_ha1");
    CHECK(onlyError(load(oneLine("    aor: sip:a@example.net\n    auth:\n      password: x\n      password_env: Y\n"))) ==
          "test.yaml:6:7: lines[0].auth: give exactly one of password, password_file, password_env or password_ha1");
    CHECK(onlyError(load(oneLine("    aor: sip:example.net\n    auth: { password: x }\n"))) ==
          "test.yaml:4:11: lines[0].auth: missing required key 'username' (the aor has no user part to default to)");
    CHECK(onlyError(load(oneLine("    aor: sip:a@example.net\n    auth: { password_ha1: { MD5: 0123456789abcdef0123456789abcdef } }\n"))) ==
          "test.yaml:4:11: lines[0].auth: missing required key 'realm' (password_ha1 is bound to one realm)");
    const auto badHex = load(oneLine(
        "    aor: sip:a@example.net\n    auth:\n      realm: r\n      password_ha1:\n"
        "        SHA-256: zz112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"
        "        md5: 0123456789abcdef0123456789abcdef\n"));
    CHECK(issueTexts(badHex.errors) ==
          std::vector<std::string>{
              "test.yaml:8:9: lines[0].auth.password_ha1.md5: unknown key 'md5'; did you mean 'MD5'?",
              "test.yaml:7:18: lines[0].auth.password_ha1.SHA-256: expected 64 hexadecimal digits (found a character that is not a hexadecimal digit)"});
    CHECK(joined(badHex.errors).find("zz1122") == std::string::npos);
}

TEST_CASE("secret values never appear in error messages") {
    const auto result = load(oneLine(
        "    aor: sip:a@example.net\n    expires: 1\n    auth:\n      password: s3cr3t-value\n"
        "      password_ha1: { MD5: s3cr3t-ha1 }\n"));
    REQUIRE_FALSE(result.errors.empty());
    const std::string all = joined(result.errors);
    CHECK(all.find("s3cr3t") == std::string::npos);
}

TEST_CASE("many_errors.yaml: every problem is reported in one pass") {
    const std::string file = sipreg::test::dataPath("configs/bad/many_errors.yaml");
    const auto result = loadConfigFile(file);
    CHECK_FALSE(result.ok());
    auto errors = issueTexts(result.errors);
    const std::vector<std::string> expected = {
        file + ":1:35: listen.port: must be between 0 and 65535 (got 70000)",
        file + ":2:11: max_rate: expected a whole number, got 'fast'",
        file + ":3:12: log_level: expected one of trace, debug, info, warn or error, got 'verbose'",
        file + ":5:3: defaults.expire: unknown key 'expire'; did you mean 'expires'?",
        file + ":10:14: lines[0].expires: expected a duration: a whole number of seconds or numbers with units s, m, "
               "h, d (e.g. 600, 30s, 5m, 1h, 1h30m); got '5 minutes'",
        file + ":8:16: lines[0].registrar: must be a sip: or sips: URI or host[:port] (got scheme 'http')",
        file + ":11:9: lines[1].id: 'trunk a' may only contain letters, digits, '-', '_' and '.' (it is used in logs "
               "and metric labels)",
        file + ":16:22: lines[2].auth.password_file: cannot read '/nonexistent/sipregd-test/secret': No such file or "
               "directory",
        file + ":13:9: lines[2].id: duplicate line id 'trunk-a' (first used by lines[0] at " + file + ":7:9)",
        file + ":17:5: lines[3]: missing required key 'id' (a unique name for the line)",
    };
    for (const auto& e : expected) CHECK_MESSAGE(std::count(errors.begin(), errors.end(), e) == 1, (e + "\nGOT:\n" + joined(result.errors)));
    // Plus the aor without a scheme on line 12.
    CHECK(std::count_if(errors.begin(), errors.end(),
                        [&](const std::string& e) { return e.rfind(file + ":12:10: lines[1].aor: ", 0) == 0; }) == 1);
    CHECK(errors.size() == expected.size() + 1);
}

TEST_CASE("an unreadable config file is flagged as such") {
    const auto result = loadConfigFile("/nonexistent/sipregd.yaml");
    CHECK(result.unreadable);
    CHECK(onlyError(result) == "/nonexistent/sipregd.yaml: cannot read the configuration file: No such file or directory");
}
