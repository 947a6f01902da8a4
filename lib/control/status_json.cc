#include "control/status_json.h"

#include <chrono>

namespace sipreg::control {
namespace {

using nlohmann::json;

json seconds(const std::optional<Duration>& d) {
    if (!d) return nullptr;
    return std::chrono::duration_cast<std::chrono::seconds>(*d).count();
}

json textOrNull(const std::string& s) {
    if (s.empty()) return nullptr;
    return s;
}

std::string stateText(reg::State s) { return std::string(reg::stateName(s)); }

}  // namespace

json encodeChange(const app::StateChangeRecord& change) {
    return json{{"at", change.wallSeconds},
                {"from", stateText(change.from)},
                {"to", stateText(change.to)},
                {"code", change.statusCode != 0 ? json(change.statusCode) : json(nullptr)},
                {"text", change.text}};
}

json encodeLine(const app::LineStatus& st, bool detailed) {
    json out{{"id", st.id},
             {"state", stateText(st.state)},
             {"registrar", st.registrar},
             {"transport", textOrNull(st.transport)},
             {"target", textOrNull(st.target)},
             {"granted", st.grantedSeconds > 0 ? json(st.grantedSeconds) : json(nullptr)},
             {"expires_in", seconds(st.expiresIn)},
             {"next_action", textOrNull(st.nextAction)},
             {"next_action_in", st.nextAction.empty() ? json(nullptr) : seconds(st.nextActionIn)},
             {"last_code", st.lastStatusCode != 0 ? json(st.lastStatusCode) : json(nullptr)},
             {"last_reason", textOrNull(st.lastReason)},
             {"failures", st.consecutiveFailures},
             {"last_change", st.lastChange ? encodeChange(*st.lastChange) : json(nullptr)}};
    if (!st.setupError.empty()) out["setup_error"] = st.setupError;
    if (detailed) {
        out["outbound_proxy"] = textOrNull(st.outboundProxy);
        out["setup_error"] = textOrNull(st.setupError);
        json history = json::array();
        for (const auto& h : st.history) history.push_back(encodeChange(h));
        out["history"] = std::move(history);
        out["counters"] = encodeCounters(st.counters);
    }
    return out;
}

json encodeCounts(const app::StateCounts& counts) {
    json out{{"total", counts.total}};
    for (reg::State s : {reg::State::Registered, reg::State::Registering, reg::State::Waiting, reg::State::Failed,
                         reg::State::Unregistering, reg::State::Stopped}) {
        out[stateText(s)] = counts[s];
    }
    return out;
}

json encodeCounters(const reg::LineCounters& c) {
    return json{{"register_sent", c.registerSent},
                {"registered", c.registered},
                {"refreshed", c.refreshed},
                {"challenged", c.challenged},
                {"stale_nonces", c.staleNonces},
                {"preemptive_rejected", c.preemptiveRejected},
                {"auth_rejected", c.authRejected},
                {"interval_too_brief", c.intervalTooBrief},
                {"timeouts", c.timeouts},
                {"transport_errors", c.transportErrors},
                {"server_failures", c.serverFailures},
                {"refused", c.refused},
                {"lapses", c.lapses},
                {"nat_rewrites", c.natRewrites},
                {"keepalives_sent", c.keepalivesSent},
                {"unregistered", c.unregistered},
                {"ignored_responses", c.ignoredResponses}};
}

json encodeReload(const ReloadReport& r) {
    json out{{"applied", r.applied}, {"warnings", r.warnings}};
    if (!r.applied) {
        out["errors"] = r.errors;
        return out;
    }
    out["added"] = r.diff.added;
    out["removed"] = r.diff.removed;
    out["changed"] = r.diff.changed;
    out["unchanged"] = r.diff.unchanged.size();
    out["global_changed"] = r.diff.globalChanged;
    return out;
}

json encodeTrace(const app::TraceEvent& e, double wallSeconds) {
    return json{{"event", "sip"},
                {"at", wallSeconds},
                {"line", e.lineId.empty() ? json(nullptr) : json(std::string(e.lineId))},
                {"direction", e.outgoing ? "out" : "in"},
                {"peer", std::string(e.peer)},
                {"message", std::string(e.bytes)}};
}

}  // namespace sipreg::control
