#include "txn/transaction_layer.h"

namespace sipreg::txn {

TransactionLayer::Incoming TransactionLayer::onMessage(const sip::Message& message,
                                                       const Peer& from, TimePoint now,
                                                       std::vector<TxnAction>& out) {
    Incoming in;
    if (message.isResponse()) {
        in.wasResponse = true;
        in.match = client_.onResponse(message, now, out);
    } else {
        server_.onRequest(message, from, now, out);
    }
    return in;
}

}  // namespace sipreg::txn
