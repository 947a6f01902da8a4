#pragma once
// Durations as people read them in log lines and error messages: "250 ms", "5 s", "1.5 s".
#include <string>

#include "util/clock.h"

namespace sipreg::net {

std::string formatDuration(Duration d);

}  // namespace sipreg::net
