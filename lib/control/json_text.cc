#include "control/json_text.h"

namespace sipreg::control {

std::string toLine(const nlohmann::json& value) {
    std::string out = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    out.push_back('\n');
    return out;
}

nlohmann::json errorReply(std::string message) {
    return nlohmann::json{{"ok", false}, {"error", std::move(message)}};
}

}  // namespace sipreg::control
