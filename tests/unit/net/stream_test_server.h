#pragma once
// A TCP server for stream tests, on the test's own libuv loop: accepts every connection,
// records what each peer sends, and can write to, close or reset any of them. An optional
// data hook replaces the recording (the TLS tests decrypt there).
#include <uv.h>

#include <doctest/doctest.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "net/socket_address.h"
#include "net/uv_handle.h"

namespace sipreg::net::testing {

class StreamTestServer {
public:
    struct Peer {
        StreamTestServer* server = nullptr;
        UvHandle<uv_tcp_t> handle;
        std::string received;
        SocketAddress remote;
        bool eof = false;
        std::shared_ptr<void> state;  // whatever the data hook keeps per peer
    };
    using DataHook = std::function<void(Peer& peer, std::string_view bytes)>;

    StreamTestServer(uv_loop_t* loop, const SocketAddress& at) : loop_(loop) {
        REQUIRE(uv_tcp_init(loop, listener_.get()) == 0);
        listener_.get()->data = this;
        REQUIRE(uv_tcp_bind(listener_.get(), at.sockaddrPtr(), at.family() == AddressFamily::IPv6 ? UV_TCP_IPV6ONLY : 0) == 0);
        REQUIRE(uv_listen(reinterpret_cast<uv_stream_t*>(listener_.get()), 16, &StreamTestServer::onConnection) == 0);
        sockaddr_storage bound{};
        int length = sizeof bound;
        REQUIRE(uv_tcp_getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&bound), &length) == 0);
        auto address = SocketAddress::fromSockaddr(reinterpret_cast<const sockaddr*>(&bound));
        REQUIRE(address.ok());
        address_ = *address;
    }

    const SocketAddress& address() const { return address_; }
    std::size_t accepted() const { return peers_.size(); }
    Peer& peer(std::size_t i) {
        REQUIRE(i < peers_.size());
        return *peers_[i];
    }
    void setDataHook(DataHook hook) { hook_ = std::move(hook); }

    // Writes synchronously (loopback takes small writes whole).
    void send(Peer& p, std::string_view bytes) {
        REQUIRE(p.handle.initialised());
        uv_buf_t buf = uv_buf_init(const_cast<char*>(bytes.data()), static_cast<unsigned>(bytes.size()));
        const int rc = uv_try_write(reinterpret_cast<uv_stream_t*>(p.handle.get()), &buf, 1);
        REQUIRE(rc == static_cast<int>(bytes.size()));
    }
    void send(std::size_t i, std::string_view bytes) { send(peer(i), bytes); }

    // Orderly close (FIN).
    void closePeer(std::size_t i) { peer(i).handle.reset(); }

    // Abortive close (RST): SO_LINGER with a zero timeout, then close.
    void resetPeer(std::size_t i) {
        Peer& p = peer(i);
        uv_os_fd_t fd{};
        REQUIRE(uv_fileno(p.handle.base(), &fd) == 0);
        linger lg{1, 0};
        REQUIRE(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == 0);
        p.handle.reset();
    }

    // Stops accepting; accepted peers stay.
    void stopListening() { listener_.reset(); }

private:
    static void onConnection(uv_stream_t* s, int status) {
        auto* self = ownerOf<StreamTestServer>(s);
        if (self == nullptr || status != 0) return;
        auto peer = std::make_unique<Peer>();
        peer->server = self;
        REQUIRE(uv_tcp_init(self->loop_, peer->handle.get()) == 0);
        peer->handle.get()->data = peer.get();
        REQUIRE(uv_accept(s, reinterpret_cast<uv_stream_t*>(peer->handle.get())) == 0);
        sockaddr_storage remote{};
        int length = sizeof remote;
        REQUIRE(uv_tcp_getpeername(peer->handle.get(), reinterpret_cast<sockaddr*>(&remote), &length) == 0);
        auto address = SocketAddress::fromSockaddr(reinterpret_cast<const sockaddr*>(&remote));
        REQUIRE(address.ok());
        peer->remote = *address;
        REQUIRE(uv_read_start(reinterpret_cast<uv_stream_t*>(peer->handle.get()), &StreamTestServer::onAlloc,
                              &StreamTestServer::onRead) == 0);
        self->peers_.push_back(std::move(peer));
    }

    static void onAlloc(uv_handle_t* h, size_t, uv_buf_t* buf) {
        auto* p = ownerOf<Peer>(h);
        *buf = p == nullptr ? uv_buf_init(nullptr, 0) : uv_buf_init(p->server->buffer_, sizeof p->server->buffer_);
    }

    static void onRead(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
        auto* p = ownerOf<Peer>(s);
        if (p == nullptr) return;
        if (nread < 0) {
            p->eof = true;
            uv_read_stop(s);
            return;
        }
        const std::string_view bytes(buf->base, static_cast<std::size_t>(nread));
        if (p->server->hook_) {
            p->server->hook_(*p, bytes);
        } else {
            p->received.append(bytes);
        }
    }

    uv_loop_t* loop_;
    UvHandle<uv_tcp_t> listener_;
    SocketAddress address_;
    std::vector<std::unique_ptr<Peer>> peers_;
    DataHook hook_;
    char buffer_[64 * 1024];
};

}  // namespace sipreg::net::testing
