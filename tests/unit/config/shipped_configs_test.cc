// The configuration files shipped in config/ must load cleanly.
#include <doctest/doctest.h>

#include "config/check.h"
#include "config/loader.h"
#include "config_test_support.h"

using sipreg::config::loadConfigFile;
using sipreg::config::test::joined;
using sipreg::config::test::TempDir;
using sipreg::config::test::withEnv;

namespace {

std::string shipped(const char* name) { return std::string(SIPREG_SOURCE_CONFIG_DIR) + "/" + name; }

}  // namespace

TEST_CASE("config/sipregd.example.yaml loads without errors") {
    // The example shows every secret source, so give it what they point at.
    TempDir credentials;
    credentials.write("trunk-a", "trunk-a-secret\n");
    const auto result = loadConfigFile(shipped("sipregd.example.yaml"),
                                       withEnv({{"CREDENTIALS_DIRECTORY", credentials.path()},
                                                {"SIPREGD_TRUNK_B_PASSWORD", "trunk-b-secret"}}));
    REQUIRE_MESSAGE(result.ok(), joined(result.errors));
    CHECK(result.config->lines.size() >= 4);
    CHECK(result.warnings.empty());
    CHECK(result.config->findLine("trunk-a")->auth->password->reveal() == "trunk-a-secret");
    CHECK(result.config->findLine("trunk-b")->auth->password->reveal() == "trunk-b-secret");
    // The example leaves the transport to DNS unless a line or URI names it.
    CHECK_FALSE(result.config->findLine("trunk-a")->transportExplicit);
    CHECK(result.config->findLine("trunk-b")->transportExplicit);
    CHECK(result.config->findLine("trunk-b")->tls.serverName == "pbx.example.org");
    CHECK(result.config->findLine("trunk-b")->tls.verify);
    CHECK(result.config->global.dns.servers.empty());
    // The example writes the default control socket and leaves metrics and on_change off.
    CHECK(result.config->global.control.socket == "/run/sipregd/control.sock");
    CHECK(result.config->global.control.socketGiven);
    CHECK(result.config->global.control.mode == 0660u);
    CHECK_FALSE(result.config->global.metrics.listen.has_value());
    CHECK(result.config->global.onChange.command.empty());
}

TEST_CASE("config/demo.yaml loads without errors and targets the local registrar") {
    const auto result = loadConfigFile(shipped("demo.yaml"), withEnv({}));
    REQUIRE_MESSAGE(result.ok(), joined(result.errors));
    REQUIRE(result.config->lines.size() == 3);
    for (const auto& line : result.config->lines) {
        CAPTURE(line.id);
        CHECK(line.registrar.host == "127.0.0.1");
        CHECK(line.registrar.port.has_value());
        REQUIRE(line.auth.has_value());
        CHECK(line.auth->password->reveal() == line.auth->username + "-secret");
    }
}
