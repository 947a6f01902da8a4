#pragma once
// One entry point for everything that arrives from the transport: responses go to the
// client transactions, requests to the server responder; timers are routed by their kind.
#include <utility>
#include <vector>

#include "sip/message.h"
#include "txn/client_table.h"
#include "txn/server_responder.h"

namespace sipreg::txn {

class TransactionLayer {
public:
    TransactionLayer(TimerValues timers, ResponderSettings responder, uint64_t tagSeed)
        : client_(timers), server_(std::move(responder), timers, tagSeed) {}

    // For a response: the client match (Deliver means hand `message` to match.owner).
    // For a request: answered by the responder; the match is Stray-free and empty.
    struct Incoming {
        bool wasResponse = false;
        ClientTransactionTable::Match match;
    };
    Incoming onMessage(const sip::Message& message, const Peer& from, TimePoint now,
                       std::vector<TxnAction>& out);

    void onTimer(TxnId txn, TimerKind kind, TimePoint now, std::vector<TxnAction>& out) {
        if (isClientTimer(kind)) client_.onTimer(txn, kind, now, out);
        else server_.onTimer(txn, kind, now, out);
    }

    ClientTransactionTable& client() noexcept { return client_; }
    ServerResponder& server() noexcept { return server_; }

private:
    ClientTransactionTable client_;
    ServerResponder server_;
};

}  // namespace sipreg::txn
