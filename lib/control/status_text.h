#pragma once
// Human-readable text of control replies, for sipregctl. Works on the JSON as received:
// a missing or mistyped field prints as "-", never throws.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace sipreg::control {

// 45 -> "45s", 125 -> "2m05s", 3600 -> "1h00m", 90061 -> "1d01h".
std::string formatDuration(int64_t seconds);

// The `status` reply as a table, one row per line, and a summary line.
std::string renderStatusTable(const nlohmann::json& reply);
// The `show` reply: every field, counters and the history of state changes.
std::string renderShow(const nlohmann::json& reply);
// The `reload` reply: the diff applied, or the errors that refused it.
std::string renderReload(const nlohmann::json& reply);
// One streamed trace event: a header line and the message with LF line ends.
std::string renderTrace(const nlohmann::json& event);

}  // namespace sipreg::control
