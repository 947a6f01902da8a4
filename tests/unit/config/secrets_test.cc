// Secrets from every source, and the warnings about files other users can read.
#include <doctest/doctest.h>

#include <cstdlib>

#include "config/loader.h"
#include "config_test_support.h"

using sipreg::config::loadConfigFile;
using sipreg::config::loadConfigString;
using sipreg::config::SecretSource;
using sipreg::config::test::joined;
using sipreg::config::test::load;
using sipreg::config::test::TempDir;
using sipreg::config::test::withEnv;

namespace {

std::string lineWithAuth(const std::string& authBody) {
    return "lines:\n  - id: a\n    aor: sip:alice@example.net\n    auth:\n" + authBody;
}

}  // namespace

TEST_CASE("password_file: absolute path, trailing newline stripped once") {
    TempDir dir;
    const std::string path = dir.write("pw", "alice-secret\n\n");
    const std::string crlf = dir.write("pw-crlf", "bob-secret\r\n");
    auto result = load(lineWithAuth("      password_file: " + path + "\n"));
    REQUIRE_MESSAGE(result.ok(), joined(result.errors));
    const auto& auth = *result.config->lines[0].auth;
    CHECK(auth.source == SecretSource::File);
    CHECK(auth.sourceName == path);
    CHECK(auth.password->reveal() == "alice-secret\n");
    CHECK(result.warnings.empty());

    result = load(lineWithAuth("      password_file: " + crlf + "\n"));
    REQUIRE_MESSAGE(result.ok(), joined(result.errors));
    CHECK(result.config->lines[0].auth->password->reveal() == "bob-secret");
}

TEST_CASE("password_file: relative paths resolve against the config file's folder") {
    TempDir dir;
    dir.write("alice.pw", "from-config-dir");
    const std::string config = dir.write("sipregd.yaml", lineWithAuth("      password_file: ./alice.pw\n"));
    const auto result = loadConfigFile(config, withEnv({}));
    REQUIRE_MESSAGE(result.ok(), joined(result.errors));
    CHECK(result.config->lines[0].auth->password->reveal() == "from-config-dir");
    CHECK(result.config->lines[0].auth->sourceName == dir.path() + "/./alice.pw");
}

TEST_CASE("password_file: a bare name is a systemd credential when CREDENTIALS_DIRECTORY is set") {
    TempDir credentials;
    TempDir configDir;
    credentials.write("alice", "from-credentials");
    configDir.write("alice", "from-config-dir");
    const std::string yaml = lineWithAuth("      password_file: alice\n");

    auto result = loadConfigString(yaml, "t.yaml", withEnv({{"CREDENTIALS_DIRECTORY", credentials.path()}}, configDir.path()));
    REQUIRE_MESSAGE(result.ok(), joined(result.errors));
    CHECK(result.config->lines[0].auth->password->reveal() == "from-credentials");
    CHECK(result.config->lines[0].auth->sourceName == credentials.path() + "/alice");

    result = loadConfigString(yaml, "t.yaml", withEnv({}, configDir.path()));
    REQUIRE_MESSAGE(result.ok(), joined(result.errors));
    CHECK(result.config->lines[0].auth->password->reveal() == "from-config-dir");
}

TEST_CASE("password_file: unreadable files give the OS reason and never the content") {
    TempDir dir;
    const std::string missing = dir.path() + "/missing";
    auto result = load(lineWithAuth("      password_file: " + missing + "\n"));
    REQUIRE(result.errors.size() == 1);
    CHECK(result.errors[0].toString() == "test.yaml:5:22: lines[0].auth.password_file: cannot read '" + missing +
                                             "': No such file or directory");

    result = load(lineWithAuth("      password_file: " + dir.path() + "\n"));
    REQUIRE(result.errors.size() == 1);
    CHECK(result.errors[0].message == "cannot read '" + dir.path() + "': not a regular file");

    const std::string empty = dir.write("empty", "\n");
    result = load(lineWithAuth("      password_file: " + empty + "\n"));
    REQUIRE(result.errors.size() == 1);
    CHECK(result.errors[0].message == "'" + empty + "' is empty");

    const std::string big = dir.write("big", std::string(5000, 'k'));
    result = load(lineWithAuth("      password_file: " + big + "\n"));
    REQUIRE(result.errors.size() == 1);
    CHECK(result.errors[0].message == "cannot read '" + big + "': larger than 4096 bytes");
    CHECK(joined(result.errors).find("kkkk") == std::string::npos);
}

TEST_CASE("password_file readable by others: warning, still loads") {
    TempDir dir;
    const std::string path = dir.write("pw", "x", 0644);
    const auto result = load(lineWithAuth("      password_file: " + path + "\n"));
    REQUIRE_MESSAGE(result.ok(), joined(result.errors));
    REQUIRE(result.warnings.size() == 1);
    CHECK(result.warnings[0].toString() ==
          "test.yaml:5:22: lines[0].auth.password_file: '" + path + "' is readable by other users; chmod o-r it");
}

TEST_CASE("password_env: set, unset, empty, bad name") {
    auto result = load(lineWithAuth("      password_env: ALICE_PW\n"), {{"ALICE_PW", "env-secret"}});
    REQUIRE_MESSAGE(result.ok(), joined(result.errors));
    CHECK(result.config->lines[0].auth->password->reveal() == "env-secret");
    CHECK(result.config->lines[0].auth->source == SecretSource::Environment);

    result = load(lineWithAuth("      password_env: ALICE_PW\n"));
    REQUIRE(result.errors.size() == 1);
    CHECK(result.errors[0].toString() == "test.yaml:5:21: lines[0].auth.password_env: environment variable 'ALICE_PW' is not set");

    result = load(lineWithAuth("      password_env: ALICE_PW\n"), {{"ALICE_PW", ""}});
    REQUIRE(result.errors.size() == 1);
    CHECK(result.errors[0].message == "environment variable 'ALICE_PW' is empty");

    result = load(lineWithAuth("      password_env: ALICE-PW\n"));
    REQUIRE(result.errors.size() == 1);
    CHECK(result.errors[0].message == "'ALICE-PW' is not a valid environment variable name");
}

TEST_CASE("password_env: the default lookup reads the process environment") {
    REQUIRE(::setenv("SIPREGD_CONFIG_TEST_PW", "process-env-secret", 1) == 0);
    const auto result = loadConfigString(lineWithAuth("      password_env: SIPREGD_CONFIG_TEST_PW\n"), "t.yaml");
    ::unsetenv("SIPREGD_CONFIG_TEST_PW");
    REQUIRE_MESSAGE(result.ok(), joined(result.errors));
    CHECK(result.config->lines[0].auth->password->reveal() == "process-env-secret");
}

TEST_CASE("literal password in a config file other users can read: one warning at the first one") {
    TempDir dir;
    const std::string yaml =
        "lines:\n"
        "  - id: a\n"
        "    aor: sip:a@example.net\n"
        "    auth: { password: one }\n"
        "  - id: b\n"
        "    aor: sip:b@example.net\n"
        "    auth:\n"
        "      password: two\n";
    const std::string open = dir.write("open.yaml", yaml, 0644);
    auto result = loadConfigFile(open, withEnv({}));
    REQUIRE_MESSAGE(result.ok(), joined(result.errors));
    REQUIRE(result.warnings.size() == 1);
    CHECK(result.warnings[0].toString() ==
          open + ":4:13: lines[0].auth.password: the config file is readable by other users (mode 0644) and holds 2 "
                 "literal passwords; chmod o-r it or use password_file / password_env");
    CHECK(result.config->lines[1].auth->password->reveal() == "two");

    const std::string closed = dir.write("closed.yaml", yaml, 0640);
    result = loadConfigFile(closed, withEnv({}));
    REQUIRE_MESSAGE(result.ok(), joined(result.errors));
    CHECK(result.warnings.empty());

    // Other users may read it, but it holds no literal password: nothing to warn about.
    const std::string noLiteral = dir.write("env.yaml", lineWithAuth("      password_env: X\n"), 0644);
    result = loadConfigFile(noLiteral, withEnv({{"X", "y"}}));
    REQUIRE_MESSAGE(result.ok(), joined(result.errors));
    CHECK(result.warnings.empty());
}
