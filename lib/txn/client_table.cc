#include "txn/client_table.h"

#include <utility>

#include "sip/message.h"
#include "sip/typed_headers.h"

namespace sipreg::txn {

Result<TxnId> ClientTransactionTable::start(std::string branch, std::string_view method,
                                            std::string request, const Peer& to,
                                            uint64_t owner, TimePoint now,
                                            std::vector<TxnAction>& out) {
    releaseRetired();
    if (branch.empty()) return makeError("client transaction: request has no Via branch");
    if (byBranch_.count(branch) != 0)
        return makeError("client transaction: branch " + branch + " is already in use");
    const TxnId id = nextId_++;
    auto [it, inserted] = byId_.try_emplace(id, id, owner, std::move(branch), std::string(method),
                                            std::move(request), to, timers_);
    (void)inserted;
    if (auto parsed = sip::parseDatagram(it->second.requestBytes())) {
        auto cid = sip::callId(*parsed);
        auto cs = sip::cseq(*parsed);
        if (cid && cs) it->second.setIdentity(std::string(*cid), cs->number);
    }
    byBranch_.emplace(std::string_view(it->second.branch()), id);
    ++counters_.started;
    it->second.start(now, out);
    return id;
}

ClientTransactionTable::Match ClientTransactionTable::onResponse(const sip::Message& response,
                                                                 TimePoint now,
                                                                 std::vector<TxnAction>& out) {
    releaseRetired();
    Match m;
    auto viaList = sip::vias(response);
    auto cs = sip::cseq(response);
    // More than one Via: meant for someone behind us, not for us (RFC 3261 8.1.3.3).
    if (!response.isResponse() || !viaList || viaList->size() != 1 || !cs) {
        ++counters_.strayResponses;
        return m;
    }
    const auto found = byBranch_.find(viaList->front().branch());
    if (found == byBranch_.end()) {
        ++counters_.strayResponses;
        return m;
    }
    auto it = byId_.find(found->second);
    ClientTransaction& t = it->second;
    if (t.method() != cs->method) {  // method names are case-sensitive (RFC 3261 7.1)
        ++counters_.strayResponses;
        return m;
    }
    auto cid = sip::callId(response);
    if (!cid || !t.echoesIdentity(*cid, cs->number)) {
        ++counters_.strayResponses;
        return m;
    }
    m.txn = t.id();
    m.owner = t.owner();
    const bool terminatedBefore = t.state() == ClientTransaction::State::Terminated;
    if (terminatedBefore || t.onResponse(response.statusCode(), now, out) ==
                                ClientTransaction::Verdict::Absorb) {
        ++counters_.responsesAbsorbed;
        m.outcome = Match::Outcome::Absorbed;
    } else {
        ++counters_.responsesDelivered;
        m.outcome = Match::Outcome::Deliver;
    }
    eraseIfTerminated(it);
    return m;
}

void ClientTransactionTable::onTimer(TxnId txn, TimerKind kind, TimePoint now,
                                     std::vector<TxnAction>& out) {
    releaseRetired();
    auto it = byId_.find(txn);
    if (it == byId_.end()) return;  // already gone: a stale timer
    const auto retransmissionsBefore = it->second.retransmissions();
    const auto sizeBefore = out.size();
    it->second.onTimer(kind, now, out);
    counters_.retransmissions += it->second.retransmissions() - retransmissionsBefore;
    for (auto i = sizeBefore; i < out.size(); ++i)
        if (out[i].kind == TxnAction::Kind::DeliverTimeout) ++counters_.timeouts;
    eraseIfTerminated(it);
}

void ClientTransactionTable::onTransportError(TxnId txn, std::vector<TxnAction>& out) {
    releaseRetired();
    auto it = byId_.find(txn);
    if (it == byId_.end()) return;
    const auto sizeBefore = out.size();
    it->second.onTransportError(out);
    for (auto i = sizeBefore; i < out.size(); ++i)
        if (out[i].kind == TxnAction::Kind::DeliverTransportError) ++counters_.transportErrors;
    eraseIfTerminated(it);
}

void ClientTransactionTable::abandon(TxnId txn, std::vector<TxnAction>& out) {
    releaseRetired();
    auto it = byId_.find(txn);
    if (it == byId_.end()) return;
    it->second.abandon(out);
    eraseIfTerminated(it);
}

std::optional<TxnId> ClientTransactionTable::findByBranch(std::string_view branch) const noexcept {
    auto it = byBranch_.find(branch);
    if (it == byBranch_.end()) return std::nullopt;
    return it->second;
}

void ClientTransactionTable::eraseIfTerminated(Map::iterator it) {
    if (it->second.state() != ClientTransaction::State::Terminated) return;
    byBranch_.erase(std::string_view(it->second.branch()));
    retired_.push_back(byId_.extract(it));
}

}  // namespace sipreg::txn
