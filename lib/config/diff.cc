#include "config/diff.h"

#include <string_view>
#include <unordered_map>

namespace sipreg::config {

ConfigDiff diffConfigs(const Config& before, const Config& after) {
    ConfigDiff diff;
    diff.globalChanged = !(before.global == after.global);

    std::unordered_map<std::string_view, const LineConfig*> old;
    old.reserve(before.lines.size());
    for (const LineConfig& line : before.lines) old.emplace(line.id, &line);

    std::unordered_map<std::string_view, bool> kept;
    kept.reserve(after.lines.size());
    for (const LineConfig& line : after.lines) {
        auto it = old.find(line.id);
        if (it == old.end()) {
            diff.added.push_back(line.id);
            continue;
        }
        kept.emplace(line.id, true);
        if (*it->second == line) {
            diff.unchanged.push_back(line.id);
        } else {
            diff.changed.push_back(line.id);
        }
    }
    for (const LineConfig& line : before.lines) {
        if (!kept.count(line.id)) diff.removed.push_back(line.id);
    }
    return diff;
}

}  // namespace sipreg::config
