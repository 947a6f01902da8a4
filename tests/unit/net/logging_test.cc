#include "net/logging.h"

#include <doctest/doctest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <sstream>

#include "loop_fixture.h"

using sipreg::net::applyLogFormat;
using sipreg::net::detectLogFormat;
using sipreg::net::journalStreamMatches;
using sipreg::net::LogFormat;
using sipreg::net::parseLogLevel;
using sipreg::net::syslogPriority;
using sipreg::net::testing::ScopedEnv;

namespace {

std::string formatOne(LogFormat format, spdlog::level::level_enum level, const std::string& text) {
    std::ostringstream out;
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_st>(out);
    spdlog::logger logger("test", sink);
    logger.set_level(spdlog::level::trace);
    applyLogFormat(logger, format);
    logger.log(level, text);
    logger.flush();
    return out.str();
}

}  // namespace

TEST_CASE("--log-level accepts exactly the five documented names") {
    CHECK(*parseLogLevel("trace") == spdlog::level::trace);
    CHECK(*parseLogLevel("debug") == spdlog::level::debug);
    CHECK(*parseLogLevel("info") == spdlog::level::info);
    CHECK(*parseLogLevel("warn") == spdlog::level::warn);
    CHECK(*parseLogLevel("error") == spdlog::level::err);
    for (const char* bad : {"", "INFO", "warning", "err", "critical", "off", "verbose"}) {
        auto r = parseLogLevel(bad);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().message ==
              "invalid log level \"" + std::string(bad) + "\" (expected trace, debug, info, warn or error)");
    }
}

TEST_CASE("journal lines carry a syslog priority prefix and no timestamp") {
    CHECK(formatOne(LogFormat::Journal, spdlog::level::info, "line=a registered") == "<6>[info] line=a registered\n");
    CHECK(formatOne(LogFormat::Journal, spdlog::level::warn, "w") == "<4>[warning] w\n");
    CHECK(formatOne(LogFormat::Journal, spdlog::level::err, "e") == "<3>[error] e\n");
    CHECK(formatOne(LogFormat::Journal, spdlog::level::debug, "d") == "<7>[debug] d\n");
    CHECK(formatOne(LogFormat::Journal, spdlog::level::trace, "t") == "<7>[trace] t\n");
}

TEST_CASE("terminal lines are timestamped") {
    const auto line = formatOne(LogFormat::Timestamped, spdlog::level::info, "hello");
    // "YYYY-MM-DD HH:MM:SS.mmm [info] hello\n"
    const std::string shape = "dddd-dd-dd dd:dd:dd.ddd [info] hello\n";
    REQUIRE(line.size() == shape.size());
    for (std::size_t i = 0; i < shape.size(); ++i) {
        CAPTURE(i);
        if (shape[i] == 'd') {
            CHECK(std::isdigit(static_cast<unsigned char>(line[i])));
        } else {
            CHECK(line[i] == shape[i]);
        }
    }
}

TEST_CASE("syslog priorities follow the level") {
    CHECK(syslogPriority(spdlog::level::trace) == 7);
    CHECK(syslogPriority(spdlog::level::debug) == 7);
    CHECK(syslogPriority(spdlog::level::info) == 6);
    CHECK(syslogPriority(spdlog::level::warn) == 4);
    CHECK(syslogPriority(spdlog::level::err) == 3);
    CHECK(syslogPriority(spdlog::level::critical) == 2);
}

TEST_CASE("JOURNAL_STREAM must name stderr's device and inode") {
    CHECK(journalStreamMatches("8:12345", 8, 12345));
    CHECK_FALSE(journalStreamMatches("8:12345", 8, 12346));
    CHECK_FALSE(journalStreamMatches("9:12345", 8, 12345));
    CHECK_FALSE(journalStreamMatches("8-12345", 8, 12345));
    CHECK_FALSE(journalStreamMatches(":12345", 8, 12345));
    CHECK_FALSE(journalStreamMatches("8:", 8, 12345));
    CHECK_FALSE(journalStreamMatches("8:12345x", 8, 12345));

    struct stat st {};
    REQUIRE(fstat(STDERR_FILENO, &st) == 0);
    const std::string mine = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
    {
        ScopedEnv env("JOURNAL_STREAM", mine.c_str());
        CHECK(detectLogFormat() == LogFormat::Journal);
    }
    {
        const std::string other = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino + 1);
        ScopedEnv env("JOURNAL_STREAM", other.c_str());
        CHECK(detectLogFormat() == LogFormat::Timestamped);
    }
    {
        ScopedEnv env("JOURNAL_STREAM", nullptr);
        CHECK(detectLogFormat() == LogFormat::Timestamped);
    }
}

TEST_CASE("setupLogging installs the default logger at the requested level") {
    auto previous = spdlog::default_logger();
    auto logger = sipreg::net::setupLogging(spdlog::level::warn, LogFormat::Timestamped);
    CHECK(spdlog::default_logger() == logger);
    CHECK(logger->name() == "sipregd");
    CHECK(logger->level() == spdlog::level::warn);
    CHECK_FALSE(logger->should_log(spdlog::level::info));
    spdlog::set_default_logger(previous);
}
