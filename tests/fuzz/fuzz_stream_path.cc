// libFuzzer target: the receive path of a plain TCP flow without the sockets. The first byte
// picks the read size (1 to 64 bytes); the rest arrives in reads of that size at a
// StreamFramer, each framed message is parsed again from its raw bytes and handed to a
// TransactionLayer, as the stream transport and the line manager do. A REGISTER client
// transaction with branch z9hG4bKfuzzstream is pending, so responses can match it; requests
// reach the server responder. Every response we send must parse, and the timers armed along
// the way are fired afterwards until every transaction has ended.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sip/message.h"
#include "sip/stream_framer.h"
#include "txn/transaction_layer.h"

using namespace sipreg;

namespace {

constexpr std::string_view kBranch = "z9hG4bKfuzzstream";
constexpr std::string_view kRegister =
    "REGISTER sip:example.com SIP/2.0\r\n"
    "Via: SIP/2.0/TCP 192.0.2.10:5060;branch=z9hG4bKfuzzstream;rport\r\n"
    "Max-Forwards: 70\r\n"
    "From: <sip:alice@example.com>;tag=fuzz\r\n"
    "To: <sip:alice@example.com>\r\n"
    "Call-ID: fuzz-call@192.0.2.10\r\n"
    "CSeq: 1 REGISTER\r\n"
    "Contact: <sip:alice@192.0.2.10:5060;transport=tcp>\r\n"
    "Content-Length: 0\r\n\r\n";

// Armed timers as a timer driver keeps them: arming replaces, cancelling removes.
using TimerKey = std::pair<txn::TxnId, txn::TimerKind>;
using Timers = std::map<TimerKey, TimePoint>;

// Responses we put on the wire must be readable by the peer; requests echo the peer's header
// lines, so the line and size limits are relaxed for this check only.
void checkActions(const std::vector<txn::TxnAction>& actions, Timers& timers) {
    sip::ParseLimits relaxed;
    relaxed.maxMessageBytes = 1 << 20;
    relaxed.maxLineBytes = 1 << 20;
    relaxed.maxHeaderCount = 1 << 16;
    for (const auto& a : actions) {
        switch (a.kind) {
            case txn::TxnAction::Kind::Send:
                if (!sip::parseDatagram(a.bytes, relaxed)) __builtin_trap();
                break;
            case txn::TxnAction::Kind::ArmTimer:
                timers[{a.txn, a.timer}] = a.at;
                break;
            case txn::TxnAction::Kind::CancelTimer:
                timers.erase({a.txn, a.timer});
                break;
            default:
                break;
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const std::size_t step = 1 + data[0] % 64;
    const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);

    TimePoint now{Duration{1'000'000}};
    txn::Peer registrar;
    registrar.address = {192, 0, 2, 1};
    registrar.port = 5060;
    registrar.transport = txn::TransportKind::Tcp;
    registrar.flow = 7;

    txn::TransactionLayer layer(txn::TimerValues{}, txn::ResponderSettings{}, 42);
    std::vector<txn::TxnAction> out;
    Timers timers;
    if (!layer.client().start(std::string(kBranch), "REGISTER", std::string(kRegister), registrar, 1, now, out)) {
        __builtin_trap();
    }
    checkActions(out, timers);

    sip::StreamFramer framer;
    for (std::size_t off = 0; off < input.size(); off += step) {
        auto framed = framer.feed(input.substr(off, step));
        if (!framed) break;  // the flow would be closed here
        for (const auto& message : framed->messages) {
            auto parsed = sip::parseDatagram(message.raw());
            if (!parsed) continue;  // counted as malformed and dropped
            out.clear();
            (void)layer.onMessage(*parsed, registrar, now, out);
            checkActions(out, timers);
        }
        now += Duration{10};
    }

    // Then time passes: the earliest armed timer fires, over and over. Every transaction
    // ends within a few timers (Timer F, J, H and I are final), hence the bound.
    for (int fired = 0; !timers.empty() && fired < 256; ++fired) {
        auto earliest = std::min_element(timers.begin(), timers.end(),
                                         [](const auto& a, const auto& b) { return a.second < b.second; });
        const TimerKey key = earliest->first;
        now = std::max(now, earliest->second);
        timers.erase(earliest);
        out.clear();
        layer.onTimer(key.first, key.second, now, out);
        checkActions(out, timers);
    }
    if (!timers.empty()) __builtin_trap();  // a transaction that never ends
    return 0;
}
