#include "txn/txn_types.h"

namespace sipreg::txn {

std::string_view transportName(TransportKind t) noexcept {
    switch (t) {
        case TransportKind::Udp: return "UDP";
        case TransportKind::Tcp: return "TCP";
        case TransportKind::Tls: return "TLS";
    }
    return "UDP";
}

std::string_view timerName(TimerKind k) noexcept {
    switch (k) {
        case TimerKind::E: return "E";
        case TimerKind::F: return "F";
        case TimerKind::K: return "K";
        case TimerKind::G: return "G";
        case TimerKind::H: return "H";
        case TimerKind::I: return "I";
        case TimerKind::J: return "J";
    }
    return "?";
}

}  // namespace sipreg::txn
