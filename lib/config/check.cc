#include "config/check.h"

#include <set>

namespace sipreg::config {

namespace {

std::string plural(std::size_t n, const char* word) {
    return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

std::string lowerCopy(std::string s) {
    for (char& c : s) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return s;
}

}  // namespace

std::string summarize(const Config& config) {
    std::size_t perTransport[3] = {0, 0, 0};
    std::size_t byDns = 0;  // transport left to NAPTR/SRV
    std::size_t disabled = 0;
    std::set<std::string> registrars;
    for (const LineConfig& line : config.lines) {
        if (line.transportExplicit) {
            ++perTransport[static_cast<int>(line.transport)];
        } else {
            ++byDns;
        }
        if (!line.enabled) ++disabled;
        const uint16_t port = line.registrar.port.value_or(defaultPort(line.transport));
        registrars.insert(lowerCopy(line.registrar.host) + ":" + std::to_string(port));
    }
    std::string out = plural(config.lines.size(), "line");
    std::string breakdown;
    for (Transport t : {Transport::Udp, Transport::Tcp, Transport::Tls}) {
        const std::size_t n = perTransport[static_cast<int>(t)];
        if (n == 0) continue;
        if (!breakdown.empty()) breakdown += ", ";
        breakdown += std::to_string(n) + " " + std::string(toString(t));
    }
    if (byDns > 0) breakdown += (breakdown.empty() ? "" : ", ") + std::to_string(byDns) + " transport by DNS";
    if (disabled > 0) breakdown += "; " + std::to_string(disabled) + " disabled";
    if (!breakdown.empty()) out += " (" + breakdown + ")";
    out += ", " + std::to_string(registrars.size()) + " distinct registrar" + (registrars.size() == 1 ? "" : "s");
    return out;
}

CheckReport checkConfigFile(const std::string& path, const LoadOptions& options) {
    CheckReport report;
    LoadResult result = loadConfigFile(path, options);
    for (const ConfigIssue& e : result.errors) report.diagnostics.push_back(e.format("error"));
    for (const ConfigIssue& w : result.warnings) report.diagnostics.push_back(w.format("warning"));
    if (result.unreadable) {
        report.exitCode = kCheckExitUnreadable;
    } else if (!result.ok()) {
        report.exitCode = kCheckExitInvalid;
    } else {
        std::string line = path + ": OK, " + summarize(*result.config);
        if (!result.warnings.empty()) line += ", " + plural(result.warnings.size(), "warning");
        report.output.push_back(std::move(line));
        report.exitCode = kCheckExitValid;
    }
    return report;
}

}  // namespace sipreg::config
