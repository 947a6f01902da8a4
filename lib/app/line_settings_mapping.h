#pragma once
// Turns a validated line of the configuration into what its RegistrationMachine needs.
#include <cstdint>
#include <string>

#include "config/model.h"
#include "reg/line_settings.h"
#include "util/result.h"

namespace sipreg::app {

// `localHost`/`localPort`: our address as seen on the route to the line's first hop (Via
// sent-by and the generated Contact). Errors name the line and the offending value.
Result<reg::LineSettings> toLineSettings(const config::LineConfig& line, std::string localHost,
                                         uint16_t localPort);

txn::TransportKind toTransportKind(config::Transport t) noexcept;

}  // namespace sipreg::app
