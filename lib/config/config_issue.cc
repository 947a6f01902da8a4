#include "config/config_issue.h"

namespace sipreg::config {

namespace {

std::string location(const ConfigIssue& issue) {
    std::string out = issue.file;
    if (issue.line > 0) {
        out += ':' + std::to_string(issue.line);
        if (issue.column > 0) out += ':' + std::to_string(issue.column);
    }
    return out;
}

}  // namespace

std::string ConfigIssue::toString() const {
    std::string out = location(*this) + ": ";
    if (!path.empty()) out += path + ": ";
    return out + message;
}

std::string ConfigIssue::format(std::string_view severity) const {
    std::string out = location(*this) + ": ";
    out += severity;
    out += ": ";
    if (!path.empty()) out += path + ": ";
    return out + message;
}

}  // namespace sipreg::config
