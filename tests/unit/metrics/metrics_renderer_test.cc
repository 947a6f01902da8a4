#include <doctest/doctest.h>

#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "metrics/metrics_renderer.h"

using namespace sipreg;
using namespace sipreg::metrics;

namespace {

// The page as a scraper sees it: sample series text -> value, with the format's rules on
// families checked on the way.
struct Parsed {
    std::map<std::string, std::string> samples;
    std::map<std::string, std::string> types;
    std::vector<std::string> problems;
};

Parsed parse(const std::string& text) {
    Parsed p;
    std::istringstream in(text);
    std::string line;
    std::string current;       // the family whose samples may follow
    std::string helpFor;       // the family whose HELP came last
    std::set<std::string> closed;
    while (std::getline(in, line)) {
        if (line.rfind("# HELP ", 0) == 0) {
            helpFor = line.substr(7, line.find(' ', 7) - 7);
            continue;
        }
        if (line.rfind("# TYPE ", 0) == 0) {
            std::istringstream t(line.substr(7));
            std::string name, type;
            t >> name >> type;
            if (helpFor != name) p.problems.push_back("TYPE without HELP: " + name);
            if (!p.types.emplace(name, type).second) p.problems.push_back("family twice: " + name);
            if (!current.empty()) closed.insert(current);
            current = name;
            continue;
        }
        const auto space = line.rfind(' ');
        if (space == std::string::npos) {
            p.problems.push_back("no value: " + line);
            continue;
        }
        const std::string series = line.substr(0, space);
        const std::string name = series.substr(0, series.find('{'));
        const bool histogramPart = p.types[current] == "histogram" &&
                                   (name == current + "_bucket" || name == current + "_sum" || name == current + "_count");
        if (name != current && !histogramPart) p.problems.push_back("sample outside its family: " + line);
        if (!p.samples.emplace(series, line.substr(space + 1)).second) p.problems.push_back("duplicate: " + line);
    }
    return p;
}

app::LineStatus line(std::string id, reg::State state) {
    app::LineStatus s;
    s.id = std::move(id);
    s.state = state;
    return s;
}

MetricsSnapshot sample() {
    MetricsSnapshot s;
    auto up = line("up", reg::State::Registered);
    up.expiresIn = Duration{1500};
    up.grantedSeconds = 3600;
    up.nextAction = "refresh";
    up.nextActionIn = Duration{900'000};
    up.counters.registered = 3;
    up.counters.challenged = 4;
    up.counters.registerSent = 7;
    up.lastStatusCode = 200;
    auto down = line("we\"ird\\id\n", reg::State::Waiting);
    down.nextAction = "retry";
    down.nextActionIn = Duration{30'250};
    down.consecutiveFailures = 2;
    down.counters.refused = 3;
    down.counters.authRejected = 2;  // a subset of refused: not counted twice
    down.counters.timeouts = 5;
    down.counters.serverFailures = 6;
    down.counters.transportErrors = 8;
    down.counters.intervalTooBrief = 9;
    down.counters.lapses = 1;
    down.lastStatusCode = 503;
    s.lines = {up, down};
    s.counts[reg::State::Registered] = 1;
    s.counts[reg::State::Waiting] = 1;
    s.counts.total = 2;
    s.manager.malformed = 11;
    s.manager.datagramsIn = 40;
    s.transactions.retransmissions = 12;
    s.transactions.timeouts = 13;
    s.startTimeSeconds = 1700000000.5;
    s.version = "1.2.3";
    s.server.requests = 21;
    s.server.busy = 2;
    s.server.dropped = 1;
    s.requests.droppedStranger = 30;
    s.requests.droppedRate = 40;
    return s;
}

const std::string kDown = "line=\"we\\\"ird\\\\id\\n\"";

}  // namespace

TEST_CASE("the page keeps the exposition format's family rules") {
    const std::string text = renderMetrics(sample());
    const Parsed p = parse(text);
    CHECK(p.problems.empty());
    for (const auto& pr : p.problems) MESSAGE(pr);
    CHECK(p.types.at("sipregd_line_registered") == "gauge");
    CHECK(p.types.at("sipregd_line_registration_attempts_total") == "counter");
    CHECK(p.types.at("sipregd_transaction_retransmissions_total") == "counter");
    CHECK(text.back() == '\n');
}

TEST_CASE("per-line gauges: registered, expiry, backoff, failures, state") {
    const Parsed p = parse(renderMetrics(sample()));
    const auto& s = p.samples;
    CHECK(s.at("sipregd_line_registered{line=\"up\"}") == "1");
    CHECK(s.at("sipregd_line_registered{" + kDown + "}") == "0");
    CHECK(s.at("sipregd_line_expiry_seconds{line=\"up\"}") == "1.5");
    CHECK(s.at("sipregd_line_expiry_seconds{" + kDown + "}") == "0");
    CHECK(s.at("sipregd_line_granted_expiry_seconds{line=\"up\"}") == "3600");
    // A pending refresh is not a backoff; a pending retry is.
    CHECK(s.at("sipregd_line_backoff_seconds{line=\"up\"}") == "0");
    CHECK(s.at("sipregd_line_backoff_seconds{" + kDown + "}") == "30.25");
    CHECK(s.at("sipregd_line_consecutive_failures{" + kDown + "}") == "2");
    CHECK(s.at("sipregd_line_last_status_code{" + kDown + "}") == "503");
    // One sample per line, for its current state only.
    CHECK(s.at("sipregd_line_state{line=\"up\",state=\"registered\"}") == "1");
    CHECK(s.at("sipregd_line_state{" + kDown + ",state=\"waiting\"}") == "1");
    std::size_t stateSamples = 0;
    for (const auto& [series, value] : s) stateSamples += series.rfind("sipregd_line_state{", 0) == 0 ? 1 : 0;
    CHECK(stateSamples == 2);
}

TEST_CASE("attempts by outcome class come from the line's counters") {
    const Parsed p = parse(renderMetrics(sample()));
    auto attempts = [&](const std::string& line, const char* outcome) {
        return p.samples.at("sipregd_line_registration_attempts_total{" + line + ",outcome=\"" + outcome + "\"}");
    };
    const std::string up = "line=\"up\"";
    CHECK(attempts(up, "success") == "3");
    CHECK(attempts(up, "challenged") == "4");
    CHECK(attempts(up, "refused") == "0");
    CHECK(attempts(kDown, "refused") == "3");  // rejected credentials included once
    CHECK(attempts(kDown, "timeout") == "5");
    CHECK(attempts(kDown, "server_error") == "6");
    CHECK(attempts(kDown, "transport_error") == "8");
    CHECK(attempts(kDown, "interval_too_brief") == "9");
    CHECK(p.samples.at("sipregd_line_register_requests_total{line=\"up\"}") == "7");
    CHECK(p.samples.at("sipregd_line_binding_lapses_total{" + kDown + "}") == "1");
}

TEST_CASE("process-wide counters, state counts, start time and build info") {
    const Parsed p = parse(renderMetrics(sample()));
    const auto& s = p.samples;
    CHECK(s.at("sipregd_lines{state=\"registered\"}") == "1");
    CHECK(s.at("sipregd_lines{state=\"waiting\"}") == "1");
    CHECK(s.at("sipregd_lines{state=\"failed\"}") == "0");
    CHECK(s.at("sipregd_transaction_retransmissions_total") == "12");
    CHECK(s.at("sipregd_transaction_timeouts_total") == "13");
    CHECK(s.at("sipregd_malformed_messages_total") == "11");
    CHECK(s.at("sipregd_messages_received_total") == "40");
    CHECK(s.at("sipregd_process_start_time_seconds") == "1700000000.5");
    CHECK(s.at("sipregd_build_info{version=\"1.2.3\"}") == "1");
}

TEST_CASE("no lines: the per-line families are present and empty, the rest still reported") {
    MetricsSnapshot s;
    s.version = "x";
    const Parsed p = parse(renderMetrics(s));
    CHECK(p.problems.empty());
    CHECK(p.types.count("sipregd_line_registered") == 1);
    CHECK(p.samples.count("sipregd_build_info{version=\"x\"}") == 1);
    for (const auto& [series, value] : p.samples) CHECK(series.rfind("sipregd_line_", 0) != 0);
}

TEST_CASE("10,000 lines render into one page with every line's samples") {
    MetricsSnapshot s;
    for (int i = 0; i < 10'000; ++i) s.lines.push_back(line("line-" + std::to_string(i), reg::State::Registered));
    const std::string text = renderMetrics(s);
    auto occurrences = [&](const std::string& needle) {
        std::size_t n = 0;
        for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
        return n;
    };
    // 16 samples per line: 6 gauges, the state, 7 outcome classes and 2 counters.
    CHECK(occurrences("{line=\"line-0\"") == 16);
    CHECK(occurrences("{line=\"line-9999\"") == 16);
    CHECK(text.find("sipregd_line_registered{line=\"line-9999\"} 1\n") != std::string::npos);
    // The up-front reservation was enough: the page never grew past it.
    CHECK(text.capacity() <= 4096 + 10'000 * 16 * (70 + 10));
}

TEST_CASE("requests answered and dropped, by reason") {
    const Parsed p = parse(renderMetrics(sample()));
    const auto& s = p.samples;
    CHECK(s.at("sipregd_requests_answered_total") == "21");
    CHECK(s.at("sipregd_requests_dropped_total{reason=\"stranger\"}") == "30");
    CHECK(s.at("sipregd_requests_dropped_total{reason=\"rate\"}") == "40");
    CHECK(s.at("sipregd_requests_dropped_total{reason=\"busy\"}") == "2");
    CHECK(s.at("sipregd_requests_dropped_total{reason=\"unreadable\"}") == "1");
}

TEST_CASE("process facts: timer lateness histogram, handles, fds, memory, CPU") {
    MetricsSnapshot snap = sample();
    CHECK(parse(renderMetrics(snap)).types.count("sipregd_timer_lateness_seconds") == 0);
    ProcessFacts facts;
    for (int ms : {0, 1, 3, 7, 7, 400, 9000}) facts.timerLateness.record(Duration{ms});
    facts.loopHandles = 9;
    facts.openFds = 12;
    facts.residentBytes = 4096 * 1000;
    facts.cpuSeconds = 1.25;
    snap.process = facts;
    const std::string text = renderMetrics(snap);
    const Parsed p = parse(text);
    for (const auto& pr : p.problems) MESSAGE(pr);
    CHECK(p.problems.empty());
    const auto& s = p.samples;
    CHECK(p.types.at("sipregd_timer_lateness_seconds") == "histogram");
    CHECK(s.at("sipregd_timer_lateness_seconds_bucket{le=\"0.001\"}") == "2");  // 0 and 1 ms
    CHECK(s.at("sipregd_timer_lateness_seconds_bucket{le=\"0.005\"}") == "3");
    CHECK(s.at("sipregd_timer_lateness_seconds_bucket{le=\"0.01\"}") == "5");
    CHECK(s.at("sipregd_timer_lateness_seconds_bucket{le=\"0.25\"}") == "5");
    CHECK(s.at("sipregd_timer_lateness_seconds_bucket{le=\"1\"}") == "6");
    CHECK(s.at("sipregd_timer_lateness_seconds_bucket{le=\"5\"}") == "6");
    CHECK(s.at("sipregd_timer_lateness_seconds_bucket{le=\"+Inf\"}") == "7");
    CHECK(s.at("sipregd_timer_lateness_seconds_count") == "7");
    CHECK(s.at("sipregd_timer_lateness_seconds_sum") == "9.418");
    CHECK(s.at("sipregd_timer_lateness_max_seconds") == "9");
    CHECK(s.at("sipregd_loop_handles") == "9");
    CHECK(s.at("process_open_fds") == "12");
    CHECK(s.at("process_resident_memory_bytes") == "4096000");
    CHECK(s.at("process_cpu_seconds_total") == "1.25");
}
