#include "control/command_handler.h"

#include "control/check_summary.h"
#include "control/json_text.h"
#include "control/request.h"
#include "control/status_json.h"

namespace sipreg::control {
namespace {

using nlohmann::json;

std::string noSuchLine(const std::string& id) {
    return "no line " + json(id).dump(-1, ' ', false, json::error_handler_t::replace);
}

json status(Backend& backend) {
    json lines = json::array();
    for (const auto& st : backend.statusAll()) lines.push_back(encodeLine(st, false));
    return json{{"ok", true}, {"now", backend.wallSeconds()}, {"lines", std::move(lines)},
                {"counts", encodeCounts(backend.counts())}};
}

}  // namespace

Reply handleRequest(std::string_view requestLine, Backend& backend) {
    Reply reply;
    auto request = parseRequest(requestLine);
    if (!request) {
        reply.line = toLine(errorReply(request.error().message));
        return reply;
    }
    json out;
    switch (request->command) {
        case Command::Status:
            out = status(backend);
            break;
        case Command::Show: {
            auto st = backend.status(*request->line);
            if (!st) {
                out = errorReply(noSuchLine(*request->line));
                break;
            }
            out = json{{"ok", true}, {"now", backend.wallSeconds()}, {"line", encodeLine(*st, true)}};
            break;
        }
        case Command::Refresh:
            if (request->all) {
                out = json{{"ok", true}, {"refreshed", backend.refreshAll()}};
            } else if (backend.refresh(*request->line)) {
                out = json{{"ok", true}, {"refreshed", 1}};
            } else {
                out = errorReply(noSuchLine(*request->line));
            }
            break;
        case Command::Reload: {
            const ReloadReport report = backend.reload();
            out = encodeReload(report);
            out["ok"] = report.applied;
            if (!report.applied) {
                out["error"] = "reload refused (" + std::to_string(report.errors.size()) +
                               " error(s)); the running configuration stays in force";
            }
            break;
        }
        case Command::Check:
            out = encodeCheck(evaluateCheck(backend.statusAll()));
            out["ok"] = true;
            break;
        case Command::Trace:
            if (request->line && !backend.status(*request->line)) {
                out = errorReply(noSuchLine(*request->line));
                break;
            }
            out = json{{"ok", true}, {"trace", request->line ? json(*request->line) : json(nullptr)}};
            reply.startTrace = true;
            reply.traceLine = request->line;
            break;
    }
    reply.line = toLine(out);
    return reply;
}

}  // namespace sipreg::control
