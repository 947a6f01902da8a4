#include "control/request.h"

#include <nlohmann/json.hpp>

#include <array>
#include <utility>

namespace sipreg::control {
namespace {

using nlohmann::json;

constexpr std::array<std::pair<Command, std::string_view>, 6> kCommands{{
    {Command::Status, "status"},
    {Command::Show, "show"},
    {Command::Refresh, "refresh"},
    {Command::Reload, "reload"},
    {Command::Check, "check"},
    {Command::Trace, "trace"},
}};

// Brackets outside strings, counted without building anything, so a hostile line of
// 64 KiB of '[' costs one pass and no recursion.
bool nestedTooDeep(std::string_view text) {
    int depth = 0;
    bool inString = false;
    bool escaped = false;
    for (char c : text) {
        if (inString) {
            if (escaped) {
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == '"') {
                inString = false;
            }
            continue;
        }
        if (c == '"') {
            inString = true;
        } else if (c == '[' || c == '{') {
            if (++depth > kMaxRequestDepth) return true;
        } else if (c == ']' || c == '}') {
            --depth;
        }
    }
    return false;
}

std::string jsonQuoted(std::string_view s) { return json(std::string(s)).dump(-1, ' ', false, json::error_handler_t::replace); }

Result<void> onlyKeys(const json& object, Command cmd, std::initializer_list<std::string_view> allowed) {
    for (const auto& item : object.items()) {
        bool known = item.key() == "cmd";
        for (std::string_view a : allowed) known = known || item.key() == a;
        if (!known) {
            return makeError("unknown key " + jsonQuoted(item.key()) + " for " + std::string(commandName(cmd)));
        }
    }
    return {};
}

Result<std::optional<std::string>> lineArgument(const json& object, Command cmd, bool required) {
    auto it = object.find("line");
    if (it == object.end() || it->is_null()) {
        if (required) return makeError(std::string(commandName(cmd)) + " needs \"line\": a line id");
        return std::optional<std::string>{};
    }
    if (!it->is_string()) return makeError("\"line\" must be a string (a line id)");
    std::string id = it->get<std::string>();
    if (id.empty()) return makeError("\"line\" must not be empty");
    return std::optional<std::string>{std::move(id)};
}

}  // namespace

std::string_view commandName(Command c) noexcept {
    for (const auto& [cmd, name] : kCommands) {
        if (cmd == c) return name;
    }
    return "?";
}

Result<Request> parseRequest(std::string_view text) {
    if (nestedTooDeep(text)) return makeError("request nested too deeply");
    json object = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (object.is_discarded()) return makeError("request is not valid JSON");
    if (!object.is_object()) return makeError("request must be a JSON object such as {\"cmd\":\"status\"}");
    auto cmdIt = object.find("cmd");
    if (cmdIt == object.end()) return makeError("request has no \"cmd\"");
    if (!cmdIt->is_string()) return makeError("\"cmd\" must be a string");
    const std::string name = cmdIt->get<std::string>();

    Request request;
    bool found = false;
    for (const auto& [cmd, cmdName] : kCommands) {
        if (cmdName == name) {
            request.command = cmd;
            found = true;
        }
    }
    if (!found) {
        return makeError("unknown command " + jsonQuoted(name) + " (known: status, show, refresh, reload, check, trace)");
    }

    switch (request.command) {
        case Command::Status:
        case Command::Reload:
        case Command::Check:
            if (auto k = onlyKeys(object, request.command, {}); !k) return k.error();
            break;
        case Command::Show:
        case Command::Trace: {
            if (auto k = onlyKeys(object, request.command, {"line"}); !k) return k.error();
            auto line = lineArgument(object, request.command, request.command == Command::Show);
            if (!line) return line.error();
            request.line = std::move(*line);
            break;
        }
        case Command::Refresh: {
            if (auto k = onlyKeys(object, request.command, {"line", "all"}); !k) return k.error();
            auto line = lineArgument(object, request.command, false);
            if (!line) return line.error();
            request.line = std::move(*line);
            auto all = object.find("all");
            if (all != object.end() && !all->is_null()) {
                if (!all->is_boolean()) return makeError("\"all\" must be true or false");
                request.all = all->get<bool>();
            }
            if (request.all == request.line.has_value()) {
                return makeError("refresh needs either \"line\" or \"all\": true");
            }
            break;
        }
    }
    return request;
}

}  // namespace sipreg::control
