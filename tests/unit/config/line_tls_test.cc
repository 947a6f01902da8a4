// Per-line `tls:` settings: inheritance, file checks, pairing, and where they make no sense.
#include <doctest/doctest.h>

#include "config/loader.h"
#include "config_test_support.h"

using sipreg::config::LoadResult;
using sipreg::config::loadConfigFile;
using sipreg::config::loadConfigString;
using sipreg::config::TlsSettings;
using sipreg::config::Transport;
using sipreg::config::test::issueTexts;
using sipreg::config::test::joined;
using sipreg::config::test::load;
using sipreg::config::test::TempDir;
using sipreg::config::test::withEnv;

namespace {

std::string onlyError(const LoadResult& result) {
    CHECK_FALSE(result.ok());
    REQUIRE_MESSAGE(result.errors.size() == 1, joined(result.errors));
    return result.errors[0].toString();
}

// Files a TLS block may name, in a fresh folder.
struct TlsFiles {
    TempDir dir;
    std::string ca = dir.write("ca.pem", "-----BEGIN CERTIFICATE-----\n");
    std::string cert = dir.write("client.pem", "-----BEGIN CERTIFICATE-----\n");
    std::string key = dir.write("client.key", "-----BEGIN PRIVATE KEY-----\n", 0600);
    std::string caDir = dir.path();
};

}  // namespace

TEST_CASE("tls: the defaults' block is inherited and a line's block is merged over it key by key") {
    TlsFiles files;
    const auto result = load(
        "defaults:\n"
        "  transport: tls\n"
        "  tls:\n"
        "    ca_file: " + files.ca + "\n"
        "    verify: false\n"
        "    server_name: sbc.example.net\n"
        "    ciphers: ECDHE+AESGCM\n"
        "lines:\n"
        "  - { id: inherits, aor: 'sip:a@example.net' }\n"
        "  - id: merges\n"
        "    aor: sip:b@example.net\n"
        "    tls:\n"
        "      verify: true\n"
        "      ca_path: " + files.caDir + "\n"
        "      cert_file: " + files.cert + "\n"
        "      key_file: " + files.key + "\n"
        "  - id: clears\n"
        "    aor: sip:c@example.net\n"
        "    tls: { ca_file: '', server_name: '', ciphers: '' }\n");
    REQUIRE_MESSAGE(result.ok(), joined(result.errors));
    CHECK(result.warnings.empty());
    const auto& c = *result.config;

    TlsSettings expected;
    expected.caFile = files.ca;
    expected.verify = false;
    expected.serverName = "sbc.example.net";
    expected.ciphers = "ECDHE+AESGCM";
    CHECK((c.findLine("inherits")->tls == expected));

    expected.verify = true;
    expected.caPath = files.caDir;
    expected.certFile = files.cert;
    expected.keyFile = files.key;
    CHECK((c.findLine("merges")->tls == expected));

    const TlsSettings& cleared = c.findLine("clears")->tls;
    CHECK(cleared.caFile.empty());
    CHECK(cleared.serverName.empty());
    CHECK(cleared.ciphers.empty());
    CHECK_FALSE(cleared.verify);  // not named in the line's block: still inherited

    const std::string text = describe(*c.findLine("merges"));
    CHECK(text.find("tls(verify=true ca_file=" + files.ca) != std::string::npos);
    CHECK(text.find("key_file=" + files.key) != std::string::npos);
}

TEST_CASE("tls: relative paths are relative to the config file's folder") {
    TlsFiles files;
    const std::string config = files.dir.write(
        "sipregd.yaml",
        "lines:\n"
        "  - id: a\n"
        "    aor: sips:a@example.net\n"
        "    tls: { ca_file: ca.pem, ca_path: ., cert_file: ./client.pem, key_file: client.key }\n");
    const auto result = loadConfigFile(config, withEnv({}));
    REQUIRE_MESSAGE(result.ok(), joined(result.errors));
    const TlsSettings& tls = result.config->lines[0].tls;
    CHECK(tls.caFile == files.dir.path() + "/ca.pem");
    CHECK(tls.caPath == files.dir.path() + "/.");
    CHECK(tls.certFile == files.dir.path() + "/./client.pem");
    CHECK(tls.keyFile == files.dir.path() + "/client.key");

    // The same text loaded from a string resolves against LoadOptions::baseDirectory.
    const auto fromString = loadConfigString(
        "lines:\n  - { id: a, aor: 'sips:a@example.net', tls: { ca_file: ca.pem } }\n", "t.yaml",
        withEnv({}, files.dir.path()));
    REQUIRE_MESSAGE(fromString.ok(), joined(fromString.errors));
    CHECK(fromString.config->lines[0].tls.caFile == files.dir.path() + "/ca.pem");
}

TEST_CASE("tls: files must exist and be of the right kind, reported at the value") {
    TlsFiles files;
    const std::string missing = files.dir.path() + "/missing.pem";
    CHECK(onlyError(load("lines:\n  - id: a\n    aor: sips:a@example.net\n    tls: { ca_file: " + missing + " }\n")) ==
          "test.yaml:4:21: lines[0].tls.ca_file: cannot read '" + missing + "': No such file or directory");
    CHECK(onlyError(load("lines:\n  - id: a\n    aor: sips:a@example.net\n    tls:\n      ca_file: " + files.caDir +
                         "\n")) ==
          "test.yaml:5:16: lines[0].tls.ca_file: cannot read '" + files.caDir + "': not a regular file");
    CHECK(onlyError(load("lines:\n  - id: a\n    aor: sips:a@example.net\n    tls:\n      ca_path: " + files.ca +
                         "\n")) ==
          "test.yaml:5:16: lines[0].tls.ca_path: cannot read '" + files.ca + "': not a directory");
    CHECK(onlyError(load("defaults:\n  tls:\n    cert_file: " + missing + "\n    key_file: " + files.key +
                         "\nlines: []\n")) ==
          "test.yaml:3:16: defaults.tls.cert_file: cannot read '" + missing + "': No such file or directory");
    CHECK(onlyError(load("lines:\n  - id: a\n    aor: sips:a@example.net\n    tls:\n      cert_file: " + files.cert +
                         "\n      key_file: " + files.caDir + "\n")) ==
          "test.yaml:6:17: lines[0].tls.key_file: cannot read '" + files.caDir + "': not a regular file");
}

TEST_CASE("tls: cert_file and key_file go together, checked on the merged values") {
    TlsFiles files;
    CHECK(onlyError(load("lines:\n  - id: a\n    aor: sips:a@example.net\n    tls:\n      cert_file: " + files.cert +
                         "\n")) ==
          "test.yaml:5:7: lines[0].tls.cert_file: cert_file is set but key_file is not (a client certificate needs "
          "its private key)");
    CHECK(onlyError(load("defaults:\n  tls: { key_file: " + files.key + " }\nlines: []\n")) ==
          "test.yaml:2:10: defaults.tls.key_file: key_file is set but cert_file is not (a private key needs its "
          "certificate)");
    // Dropping the inherited key leaves the inherited certificate alone.
    CHECK(onlyError(load("defaults:\n  tls: { cert_file: " + files.cert + ", key_file: " + files.key +
                         " }\nlines:\n  - id: a\n    aor: sips:a@example.net\n    tls:\n      key_file: ''\n")) ==
          "test.yaml:7:7: lines[0].tls.key_file: cert_file is set but key_file is not (a client certificate needs "
          "its private key)");
    // A missing file is one error, not also a pairing error.
    CHECK(onlyError(load("lines:\n  - id: a\n    aor: sips:a@example.net\n    tls:\n      cert_file: " + files.cert +
                         "\n      key_file: /nonexistent/sipregd.key\n")) ==
          "test.yaml:6:17: lines[0].tls.key_file: cannot read '/nonexistent/sipregd.key': No such file or directory");
}

TEST_CASE("tls: a private key other users can read is a warning") {
    TlsFiles files;
    const std::string openKey = files.dir.write("open.key", "-----BEGIN PRIVATE KEY-----\n", 0644);
    const auto result = load("lines:\n  - id: a\n    aor: sips:a@example.net\n    tls:\n      cert_file: " + files.cert +
                             "\n      key_file: " + openKey + "\n");
    REQUIRE_MESSAGE(result.ok(), joined(result.errors));
    CHECK(issueTexts(result.warnings) ==
          std::vector<std::string>{"test.yaml:6:17: lines[0].tls.key_file: '" + openKey +
                                   "' holds a private key and is readable by other users; chmod o-r it"});
    // A world-readable certificate or CA file is normal.
    const auto fine = load("lines:\n  - id: a\n    aor: sips:a@example.net\n    tls: { ca_file: " +
                           files.dir.write("public.pem", "x", 0644) + " }\n");
    REQUIRE_MESSAGE(fine.ok(), joined(fine.errors));
    CHECK(fine.warnings.empty());
}

TEST_CASE("tls: a line's own block on a line whose transport is not tls is a warning") {
    const auto result = load(
        "defaults:\n"
        "  tls: { verify: false }\n"
        "lines:\n"
        "  - { id: udp-own, aor: 'sip:a@example.net', transport: udp, tls: { verify: true } }\n"
        "  - id: tcp-param\n"
        "    aor: sip:a@example.net\n"
        "    registrar: sip:pbx.example.net;transport=tcp\n"
        "    tls: { server_name: pbx.example.net }\n"
        // Inherited settings are expected on any line.
        "  - { id: udp-inherited, aor: 'sip:a@example.net', transport: udp }\n"
        // Without a written transport DNS may choose tls, so the block can apply.
        "  - { id: dns-chooses, aor: 'sip:a@example.net', tls: { verify: true } }\n"
        "  - { id: tls-own, aor: 'sip:a@example.net', transport: tls, tls: { verify: true } }\n");
    REQUIRE_MESSAGE(result.ok(), joined(result.errors));
    CHECK(issueTexts(result.warnings) ==
          std::vector<std::string>{"test.yaml:4:62: lines[0].tls: has no effect: this line's transport is udp, not tls",
                                   "test.yaml:8:5: lines[1].tls: has no effect: this line's transport is tcp, not tls"});
    CHECK(result.config->findLine("udp-own")->tls.verify);
    CHECK((result.config->findLine("tcp-param")->transport == Transport::Tcp));
}

TEST_CASE("tls: the old global block says where it went; keys are checked") {
    CHECK(onlyError(load("tls:\n  ca_file: /etc/ssl/certs/ca-certificates.crt\n  verify_peer: false\nlines: []\n")) ==
          "test.yaml:1:1: tls: TLS settings are per line now: move this block under 'defaults:' (for every line) or "
          "into a line, and rename verify_peer to verify");
    CHECK(onlyError(load("defaults:\n  tls: { verify_peer: false }\nlines: []\n")) ==
          "test.yaml:2:10: defaults.tls.verify_peer: 'verify_peer' is now called 'verify'");
    CHECK(onlyError(load("defaults:\n  tls: { ca_fiel: x }\nlines: []\n")) ==
          "test.yaml:2:10: defaults.tls.ca_fiel: unknown key 'ca_fiel'; did you mean 'ca_file'?");
    CHECK(onlyError(load("defaults:\n  tls: { verify: no }\nlines: []\n")) ==
          "test.yaml:2:18: defaults.tls.verify: expected true or false, got 'no'");
    CHECK(onlyError(load("defaults:\n  tls: strict\nlines: []\n")) ==
          "test.yaml:2:8: defaults.tls: expected a map, got 'strict'");
    CHECK(onlyError(load("defaults:\n  tls: { ciphers: \"A\\tB\" }\nlines: []\n")) ==
          "test.yaml:2:19: defaults.tls.ciphers: must not contain control characters (line breaks, tabs)");
}

TEST_CASE("tls: server_name is a host name or an IP address") {
    const auto result = load(
        "lines:\n"
        "  - { id: a, aor: 'sips:a@example.net', tls: { server_name: SBC-1.Example.net } }\n"
        "  - { id: b, aor: 'sips:a@example.net', tls: { server_name: '[2001:db8::1]' } }\n"
        "  - { id: c, aor: 'sips:a@example.net', tls: { server_name: 192.0.2.1 } }\n");
    REQUIRE_MESSAGE(result.ok(), joined(result.errors));
    CHECK(result.config->lines[0].tls.serverName == "SBC-1.Example.net");
    CHECK(result.config->lines[1].tls.serverName == "2001:db8::1");
    CHECK(result.config->lines[2].tls.serverName == "192.0.2.1");

    for (const char* bad : {"sbc example.net", "sip:sbc.example.net", "-sbc.example.net", "a..b", "*.example.net"}) {
        CAPTURE(bad);
        CHECK(onlyError(load(std::string("defaults:\n  tls:\n    server_name: \"") + bad + "\"\nlines: []\n")) ==
              std::string("test.yaml:3:18: defaults.tls.server_name: expected a host name or IP address such as "
                          "sip.example.net, got '") + bad + "'");
    }
}
