#include "control/check_summary.h"

namespace sipreg::control {

CheckResult evaluateCheck(const std::vector<app::LineStatus>& lines) {
    CheckResult r;
    r.total = lines.size();
    for (reg::State s : {reg::State::Registering, reg::State::Waiting, reg::State::Failed, reg::State::Unregistering,
                         reg::State::Stopped}) {
        std::vector<std::string> ids;
        for (const auto& l : lines) {
            if (l.state == s) ids.push_back(l.id);
        }
        if (!ids.empty()) r.notRegistered.emplace_back(s, std::move(ids));
    }
    for (const auto& l : lines) {
        if (l.state == reg::State::Registered) ++r.registered;
    }
    return r;
}

std::string CheckResult::summary() const {
    std::string out = healthy() ? "OK: " : "WARNING: ";
    out += std::to_string(registered) + "/" + std::to_string(total) + " registered";
    for (const auto& [state, ids] : notRegistered) {
        out += "; ";
        out += reg::stateName(state);
        out += ": ";
        for (std::size_t i = 0; i < ids.size() && i < kSummaryIdsPerState; ++i) {
            if (i > 0) out += ", ";
            out += ids[i];
        }
        if (ids.size() > kSummaryIdsPerState) out += " (+" + std::to_string(ids.size() - kSummaryIdsPerState) + " more)";
    }
    return out;
}

nlohmann::json encodeCheck(const CheckResult& r) {
    nlohmann::json byState = nlohmann::json::object();
    for (const auto& [state, ids] : r.notRegistered) byState[std::string(reg::stateName(state))] = ids;
    return nlohmann::json{{"healthy", r.healthy()},
                          {"registered", r.registered},
                          {"total", r.total},
                          {"not_registered", std::move(byState)},
                          {"summary", r.summary()}};
}

}  // namespace sipreg::control
