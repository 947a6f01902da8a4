#include "txn/server_responder.h"

#include <algorithm>
#include <array>
#include <utility>

#include "sip/serializer.h"
#include "sip/typed_headers.h"

namespace sipreg::txn {
namespace {

constexpr std::string_view kMagicCookie = "z9hG4bK";

constexpr std::array<std::string_view, 8> kKnownUnsupported = {
    "REGISTER", "SUBSCRIBE", "MESSAGE", "INFO", "UPDATE", "PRACK", "REFER", "PUBLISH"};

bool isKnownUnsupported(std::string_view method) {
    return std::find(kKnownUnsupported.begin(), kKnownUnsupported.end(), method) !=
           kKnownUnsupported.end();
}

// RFC 3261 17.2.3: branch + sent-by + method (ACK and CANCEL look up the INVITE's key).
// Requests from RFC 2543 peers carry no magic cookie; Call-ID and CSeq number stand in.
std::string transactionKey(const sip::Message& req, const sip::Via& top, std::string_view method) {
    std::string key;
    const auto branch = top.branch();
    if (branch.substr(0, kMagicCookie.size()) == kMagicCookie) {
        key.append(branch);
    } else {
        key.append("2543|");
        if (auto id = sip::callId(req)) key.append(*id);
        if (auto cs = sip::cseq(req)) key.append("|").append(std::to_string(cs->number));
    }
    key.append("|").append(top.host);
    if (top.port) key.append(":").append(std::to_string(*top.port));
    key.append("|").append(method);
    return key;
}

std::string_view missingMandatoryHeader(const sip::Message& req) {
    if (!sip::fromHeader(req)) return "Missing or Bad From";
    if (!sip::toHeader(req)) return "Missing or Bad To";
    if (!sip::callId(req)) return "Missing Call-ID";
    auto cs = sip::cseq(req);
    if (!cs) return "Missing or Bad CSeq";
    if (cs->method != req.method()) return "CSeq Method Mismatch";
    return {};
}

}  // namespace

ServerResponder::ServerResponder(ResponderSettings settings, TimerValues timers, uint64_t tagSeed)
    : settings_(std::move(settings)), timers_(timers), tagState_(tagSeed) {
    if (settings_.inviteStatus < 300 || settings_.inviteStatus > 699) {
        settings_.inviteStatus = 480;
        settings_.inviteReason = "Temporarily Unavailable";
    }
}

std::string ServerResponder::newTag() {
    // splitmix64: uniqueness per response is all a To tag needs (RFC 3261 19.3).
    uint64_t z = (tagState_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    static constexpr char kHex[] = "0123456789abcdef";
    std::string tag(16, '0');
    for (int i = 15; i >= 0; --i, z >>= 4) tag[static_cast<std::size_t>(i)] = kHex[z & 0xF];
    return tag;
}

void ServerResponder::sendResponse(const ServerTxn& t, bool retransmission,
                                   std::vector<TxnAction>& out) const {
    TxnAction a;
    a.kind = TxnAction::Kind::Send;
    a.txn = t.id;
    a.bytes = t.response;
    a.peer = t.peer;
    a.retransmission = retransmission;
    out.push_back(a);
}

void ServerResponder::arm(ServerTxn& t, TimerKind kind, TimePoint at, std::vector<TxnAction>& out) {
    switch (kind) {
        case TimerKind::G: t.g = at; break;
        case TimerKind::H: t.h = at; break;
        case TimerKind::I: t.i = at; break;
        default: t.j = at; break;
    }
    TxnAction a;
    a.kind = TxnAction::Kind::ArmTimer;
    a.txn = t.id;
    a.timer = kind;
    a.at = at;
    out.push_back(a);
}

void ServerResponder::cancel(ServerTxn& t, TimerKind kind, std::vector<TxnAction>& out) {
    std::optional<TimePoint>* s = kind == TimerKind::G   ? &t.g
                                  : kind == TimerKind::H ? &t.h
                                  : kind == TimerKind::I ? &t.i
                                                         : &t.j;
    if (!*s) return;
    s->reset();
    TxnAction a;
    a.kind = TxnAction::Kind::CancelTimer;
    a.txn = t.id;
    a.timer = kind;
    out.push_back(a);
}

void ServerResponder::erase(TxnId id) {
    auto it = txns_.find(id);
    if (it == txns_.end()) return;
    byKey_.erase(it->second.key);
    txns_.erase(it);
}

void ServerResponder::onRequest(const sip::Message& req, const Peer& from, TimePoint now,
                                std::vector<TxnAction>& out) {
    if (!req.isRequest()) return;
    auto viaList = sip::vias(req);
    if (!viaList || viaList->empty()) {
        ++counters_.dropped;  // nowhere to route a response (RFC 3261 18.2.2)
        return;
    }
    const sip::Via& top = viaList->front();
    const std::string_view method = req.method();

    if (method == "ACK") {
        auto found = byKey_.find(transactionKey(req, top, "INVITE"));
        if (found == byKey_.end()) {
            ++counters_.acksDropped;
            return;
        }
        ServerTxn& t = txns_.at(found->second);
        ++counters_.acksAbsorbed;
        if (t.confirmed) return;
        t.confirmed = true;
        cancel(t, TimerKind::G, out);
        cancel(t, TimerKind::H, out);
        if (isReliable(t.peer.transport)) {
            erase(t.id);
        } else {
            arm(t, TimerKind::I, now + timers_.t4, out);
        }
        return;
    }

    std::string key = transactionKey(req, top, method);
    if (auto found = byKey_.find(key); found != byKey_.end()) {
        ServerTxn& t = txns_.at(found->second);
        ++counters_.retransmissionsAnswered;
        if (!t.confirmed) sendResponse(t, true, out);  // Confirmed absorbs INVITE repeats
        return;
    }

    if (txns_.size() >= kMaxServerTransactions) {
        ++counters_.busy;
        return;
    }

    int status = 200;
    std::string reason = "OK";
    std::vector<sip::OutHeader> extra;
    const auto bad = missingMandatoryHeader(req);
    const bool invite = bad.empty() && method == "INVITE";
    if (!bad.empty()) {
        status = 400;
        reason = std::string(bad);
        ++counters_.badRequests;
    } else if (method == "OPTIONS") {
        extra.push_back({"Allow", std::string(kAllowedMethods)});
        // The default of RFC 3261 20.1; INVITEs are refused by status code, not by body type.
        extra.push_back({"Accept", "application/sdp"});
        extra.push_back({"Supported", std::string(kSupportedOptions)});
    } else if (method == "NOTIFY") {
        // Accepted and ignored: we hold no subscriptions, but a 481 would make some
        // registrars' reg-event or message-summary senders retry forever.
    } else if (invite) {
        status = settings_.inviteStatus;
        reason = settings_.inviteReason;
    } else if (method == "BYE") {
        status = 481;
        reason = "Call/Transaction Does Not Exist";  // we never establish a dialog
    } else if (method == "CANCEL") {
        // The INVITE already got its final response, so the CANCEL changes nothing (9.2).
        if (byKey_.count(transactionKey(req, top, "INVITE")) != 0) {
            status = 200;
        } else {
            status = 481;
            reason = "Call/Transaction Does Not Exist";
        }
    } else if (isKnownUnsupported(method)) {
        status = 405;
        reason = "Method Not Allowed";
        extra.push_back({"Allow", std::string(kAllowedMethods)});
    } else {
        status = 501;
        reason = "Not Implemented";
    }
    if (!settings_.serverHeader.empty()) extra.push_back({"Server", settings_.serverHeader});

    ServerTxn t;
    t.id = nextId_++;
    t.invite = invite;
    t.peer = from;
    t.gInterval = timers_.t1;
    t.response = sip::serialize(sip::makeResponse(req, status, std::move(reason), newTag(),
                                                  std::move(extra)));
    if (status != 400) ++counters_.requests;

    const bool udp = !isReliable(from.transport);
    // Non-INVITE: only UDP needs the cache (Timer J is zero on reliable transports).
    // INVITE: we must wait for the ACK on every transport (Timer H).
    const bool keep = status != 400 && (invite || udp);
    if (!keep) {
        sendResponse(t, false, out);
        // The view in the Send action must outlive this call: park the bytes until the
        // next call, which is when the caller is done with the actions.
        scratch_ = std::move(t.response);
        out.back().bytes = scratch_;
        return;
    }
    t.key = std::move(key);
    auto [it, inserted] = txns_.emplace(t.id, std::move(t));
    (void)inserted;
    ServerTxn& stored = it->second;
    byKey_.emplace(stored.key, stored.id);
    sendResponse(stored, false, out);
    if (invite) {
        if (udp) arm(stored, TimerKind::G, now + stored.gInterval, out);
        arm(stored, TimerKind::H, now + timers_.timeout(), out);
    } else {
        arm(stored, TimerKind::J, now + timers_.timeout(), out);
    }
}

void ServerResponder::onTimer(TxnId txn, TimerKind kind, TimePoint now,
                              std::vector<TxnAction>& out) {
    auto it = txns_.find(txn);
    if (it == txns_.end()) return;
    ServerTxn& t = it->second;
    std::optional<TimePoint>* s = kind == TimerKind::G   ? &t.g
                                  : kind == TimerKind::H ? &t.h
                                  : kind == TimerKind::I ? &t.i
                                  : kind == TimerKind::J ? &t.j
                                                         : nullptr;
    if (s == nullptr || !*s || **s > now) return;  // stale queue entry
    s->reset();
    switch (kind) {
        case TimerKind::G:
            sendResponse(t, true, out);
            ++counters_.responseRetransmissions;
            t.gInterval = std::min(t.gInterval * 2, timers_.t2);
            arm(t, TimerKind::G, now + t.gInterval, out);
            return;
        case TimerKind::H:
            ++counters_.ackTimeouts;
            cancel(t, TimerKind::G, out);
            erase(txn);
            return;
        default:  // I, J: the transaction ends
            erase(txn);
            return;
    }
}

}  // namespace sipreg::txn
