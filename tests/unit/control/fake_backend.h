#pragma once
// A control Backend with fixed answers that records what it was asked to do.
#include <string>
#include <vector>

#include "control/backend.h"

namespace sipreg::control::testing {

inline app::LineStatus lineStatus(std::string id, reg::State state) {
    app::LineStatus st;
    st.id = std::move(id);
    st.state = state;
    st.registrar = "sip:registrar.example";
    st.transport = "udp";
    return st;
}

struct FakeBackend final : Backend {
    std::vector<app::LineStatus> lines;
    std::vector<std::string> refreshed;
    std::size_t refreshAllCalls = 0;
    int reloads = 0;
    ReloadReport nextReload;
    int64_t now = 1'700'000'000;

    std::vector<app::LineStatus> statusAll() const override {
        std::vector<app::LineStatus> out = lines;
        for (auto& l : out) l.history.clear();
        return out;
    }
    std::optional<app::LineStatus> status(std::string_view id) const override {
        for (const auto& l : lines) {
            if (l.id == id) return l;
        }
        return std::nullopt;
    }
    app::StateCounts counts() const override {
        app::StateCounts c;
        for (const auto& l : lines) ++c[l.state];
        c.total = lines.size();
        return c;
    }
    bool refresh(std::string_view id) override {
        if (!status(id)) return false;
        refreshed.emplace_back(id);
        return true;
    }
    std::size_t refreshAll() override {
        ++refreshAllCalls;
        return lines.size();
    }
    ReloadReport reload() override {
        ++reloads;
        return nextReload;
    }
    int64_t wallSeconds() const override { return now; }
};

}  // namespace sipreg::control::testing
