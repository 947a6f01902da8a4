#include "metrics/metrics_renderer.h"

#include <array>
#include <chrono>
#include <cstdint>
#include <utility>

#include "metrics/exposition_writer.h"
#include "reg/state.h"

namespace sipreg::metrics {
namespace {

using reg::State;

constexpr std::array<State, 6> kStates = {State::Stopped,    State::Registering, State::Registered,
                                          State::Waiting,    State::Failed,      State::Unregistering};

double seconds(Duration d) { return static_cast<double>(d.count()) / 1000.0; }

// Outcome classes of REGISTER transactions, for alerting on what went wrong rather than on
// raw status codes. "refused" covers every final refusal that fails the line; the engine
// already counts rejected credentials among them (authRejected is a subset).
constexpr std::array<std::pair<std::string_view, uint64_t (*)(const reg::LineCounters&)>, 7> kOutcomes = {{
    {"success", [](const reg::LineCounters& c) { return c.registered; }},
    {"challenged", [](const reg::LineCounters& c) { return c.challenged; }},
    {"refused", [](const reg::LineCounters& c) { return c.refused; }},
    {"interval_too_brief", [](const reg::LineCounters& c) { return c.intervalTooBrief; }},
    {"server_error", [](const reg::LineCounters& c) { return c.serverFailures; }},
    {"timeout", [](const reg::LineCounters& c) { return c.timeouts; }},
    {"transport_error", [](const reg::LineCounters& c) { return c.transportErrors; }},
}};

class Renderer {
public:
    Renderer(const MetricsSnapshot& s, std::string& out) : s_(s), w_(out) {
        prefixes_.reserve(s.lines.size());
        for (const auto& l : s.lines) prefixes_.push_back(labelPrefix("line", l.id));
    }

    void perLine() {
        lineGauge("sipregd_line_registered", "1 when the registrar holds the line's binding, else 0",
                  [](const app::LineStatus& l) { return l.state == State::Registered ? 1.0 : 0.0; });
        lineGauge("sipregd_line_expiry_seconds", "Seconds until the confirmed binding lapses; 0 when there is none",
                  [](const app::LineStatus& l) { return l.expiresIn ? seconds(*l.expiresIn) : 0.0; });
        lineGauge("sipregd_line_granted_expiry_seconds", "Expiry the registrar granted last; 0 when none",
                  [](const app::LineStatus& l) { return static_cast<double>(l.grantedSeconds); });

        // Only the current state: six samples per line would make this family alone a third
        // of a large page. A state change ends one series and starts another.
        w_.family("sipregd_line_state", MetricType::Gauge, "Always 1; the line's current state is in the label");
        for (std::size_t i = 0; i < s_.lines.size(); ++i) {
            w_.sampleWithPrefix("sipregd_line_state", prefixes_[i], {{"state", reg::stateName(s_.lines[i].state)}},
                                uint64_t{1});
        }

        w_.family("sipregd_line_registration_attempts_total", MetricType::Counter,
                  "Final outcomes of REGISTER requests by class (a challenge counts as one)");
        for (std::size_t i = 0; i < s_.lines.size(); ++i) {
            for (const auto& [outcome, value] : kOutcomes) {
                w_.sampleWithPrefix("sipregd_line_registration_attempts_total", prefixes_[i],
                                    {{"outcome", outcome}}, value(s_.lines[i].counters));
            }
        }
        lineCounter("sipregd_line_register_requests_total",
                    "REGISTER requests sent: attempts, answers to challenges, refreshes, unregisters",
                    [](const app::LineStatus& l) { return l.counters.registerSent; });
        lineCounter("sipregd_line_binding_lapses_total", "Bindings that expired before a refresh succeeded",
                    [](const app::LineStatus& l) { return l.counters.lapses; });
        lineGauge("sipregd_line_backoff_seconds",
                  "Seconds until the next retry while the line backs off after a failure; 0 when not backing off",
                  [](const app::LineStatus& l) {
                      return l.nextAction == "retry" && l.nextActionIn ? seconds(*l.nextActionIn) : 0.0;
                  });
        lineGauge("sipregd_line_consecutive_failures", "Failed attempts since the last success",
                  [](const app::LineStatus& l) { return static_cast<double>(l.consecutiveFailures); });
        lineGauge("sipregd_line_last_status_code", "Status code of the last final response; 0 for none or a timeout",
                  [](const app::LineStatus& l) { return static_cast<double>(l.lastStatusCode); });
    }

    void processWide() {
        w_.family("sipregd_lines", MetricType::Gauge, "Configured lines in each state");
        for (State st : kStates) {
            w_.sample("sipregd_lines", {{"state", reg::stateName(st)}}, static_cast<uint64_t>(s_.counts[st]));
        }
        const auto& t = s_.transactions;
        counter("sipregd_transactions_started_total", "Client transactions started", t.started);
        counter("sipregd_transaction_retransmissions_total", "Requests retransmitted (RFC 3261 Timer E)",
                t.retransmissions);
        counter("sipregd_transaction_timeouts_total", "Client transactions that got no final response (Timer F)",
                t.timeouts);
        counter("sipregd_transaction_transport_errors_total", "Client transactions failed by the transport",
                t.transportErrors);
        const auto& m = s_.manager;
        counter("sipregd_messages_received_total", "SIP messages and keep-alives received", m.datagramsIn);
        counter("sipregd_malformed_messages_total", "Received messages dropped because they were not SIP",
                m.malformed);
        counter("sipregd_keepalive_pings_received_total", "Bare CRLF keep-alives received", m.keepAlivePings);
        counter("sipregd_stray_responses_total", "Responses that matched no transaction", m.strayResponses);
        counter("sipregd_send_errors_total", "Messages the network refused to send", m.sendErrors);
        counter("sipregd_rate_limited_transactions_total", "Transactions that waited for the global rate limit",
                m.rateLimited);
        counter("sipregd_requests_answered_total", "Requests from peers answered with a new response",
                s_.server.requests);
        w_.family("sipregd_requests_dropped_total", MetricType::Counter,
                  "Requests dropped unanswered: stranger (requests.answer_from), rate (requests.max_rate), "
                  "busy (too many answered requests remembered), unreadable (no Via to answer to)");
        w_.sample("sipregd_requests_dropped_total", {{"reason", "stranger"}}, s_.requests.droppedStranger);
        w_.sample("sipregd_requests_dropped_total", {{"reason", "rate"}}, s_.requests.droppedRate);
        w_.sample("sipregd_requests_dropped_total", {{"reason", "busy"}}, s_.server.busy + s_.requests.droppedBusy);
        w_.sample("sipregd_requests_dropped_total", {{"reason", "unreadable"}}, s_.server.dropped);
        if (s_.process) processFacts(*s_.process);
        w_.family("sipregd_process_start_time_seconds", MetricType::Gauge, "Start time of the daemon, Unix seconds");
        w_.sample("sipregd_process_start_time_seconds", {}, s_.startTimeSeconds);
        w_.family("sipregd_build_info", MetricType::Gauge, "Always 1; the version is in the label");
        w_.sample("sipregd_build_info", {{"version", s_.version}}, uint64_t{1});
    }

private:
    void processFacts(const ProcessFacts& p) {
        const LatenessHistogram& h = p.timerLateness;
        w_.family("sipregd_timer_lateness_seconds", MetricType::Histogram,
                  "How late the engine's timers (refreshes, retransmissions, retries) fired after their deadline");
        uint64_t cumulative = 0;
        for (std::size_t i = 0; i < LatenessHistogram::kBoundsMs.size(); ++i) {
            cumulative += h.buckets()[i];
            std::string bound;
            appendValue(bound, static_cast<double>(LatenessHistogram::kBoundsMs[i]) / 1000.0);
            w_.sample("sipregd_timer_lateness_seconds_bucket", {{"le", bound}}, cumulative);
        }
        w_.sample("sipregd_timer_lateness_seconds_bucket", {{"le", "+Inf"}}, h.count());
        w_.sample("sipregd_timer_lateness_seconds_sum", {}, static_cast<double>(h.sumMs()) / 1000.0);
        w_.sample("sipregd_timer_lateness_seconds_count", {}, h.count());
        w_.family("sipregd_timer_lateness_max_seconds", MetricType::Gauge, "Largest timer lateness since start");
        w_.sample("sipregd_timer_lateness_max_seconds", {}, static_cast<double>(h.maxMs()) / 1000.0);
        w_.family("sipregd_loop_handles", MetricType::Gauge, "Event loop handles open (sockets, timers, signals)");
        w_.sample("sipregd_loop_handles", {}, p.loopHandles);
        if (p.openFds) {
            w_.family("process_open_fds", MetricType::Gauge, "Open file descriptors");
            w_.sample("process_open_fds", {}, *p.openFds);
        }
        if (p.residentBytes) {
            w_.family("process_resident_memory_bytes", MetricType::Gauge, "Resident memory size in bytes");
            w_.sample("process_resident_memory_bytes", {}, *p.residentBytes);
        }
        w_.family("process_cpu_seconds_total", MetricType::Counter, "User and system CPU time spent, in seconds");
        w_.sample("process_cpu_seconds_total", {}, p.cpuSeconds);
    }

    template <class F>
    void lineGauge(std::string_view name, std::string_view help, F value) {
        w_.family(name, MetricType::Gauge, help);
        for (std::size_t i = 0; i < s_.lines.size(); ++i) w_.sampleWithPrefix(name, prefixes_[i], {}, value(s_.lines[i]));
    }
    template <class F>
    void lineCounter(std::string_view name, std::string_view help, F value) {
        w_.family(name, MetricType::Counter, help);
        for (std::size_t i = 0; i < s_.lines.size(); ++i) w_.sampleWithPrefix(name, prefixes_[i], {}, value(s_.lines[i]));
    }
    void counter(std::string_view name, std::string_view help, uint64_t value) {
        w_.family(name, MetricType::Counter, help);
        w_.sample(name, {}, value);
    }

    const MetricsSnapshot& s_;
    ExpositionWriter w_;
    std::vector<std::string> prefixes_;
};

// Per line the page carries 16 samples of at most about 70 bytes plus the line id each;
// reserving that up front keeps a page of 10,000 lines to one allocation.
constexpr std::size_t kSamplesPerLine = 16;
constexpr std::size_t kBytesPerSample = 70;
constexpr std::size_t kFixedBytes = 4096;

}  // namespace

std::string renderMetrics(const MetricsSnapshot& snapshot) {
    std::string out;
    std::size_t size = kFixedBytes;
    for (const auto& l : snapshot.lines) size += kSamplesPerLine * (kBytesPerSample + l.id.size());
    out.reserve(size);
    Renderer r(snapshot, out);
    r.perLine();
    r.processWide();
    return out;
}

}  // namespace sipreg::metrics
