#include "net/dns_client.h"

#include <ares.h>

#include <unordered_map>
#include <utility>

#include "net/socket_address.h"
#include "net/uv_handle.h"

namespace sipreg::net {

namespace {

constexpr int kClassIn = 1;

std::string aresText(int status) { return ares_strerror(status); }

}  // namespace

struct DnsClient::Impl {
    struct Completion {
        Callback done;
        Result<std::vector<uint8_t>> result;
    };
    struct PendingQuery {
        Impl* impl;
        Callback done;
        std::string name;
        int type;
    };

    uv_loop_t* loop = nullptr;
    ares_channel channel = nullptr;
    std::unordered_map<int, UvHandle<uv_poll_t>> polls;
    UvHandle<uv_timer_t> aresTimer;
    // Answers are handed out from here, after c-ares has returned, so a callback may destroy
    // the client or start new queries without re-entering c-ares.
    UvHandle<uv_timer_t> deliveryTimer;
    std::vector<Completion> completed;
    std::size_t inFlight = 0;  // given to c-ares, callback not yet run
    bool destroying = false;
    std::shared_ptr<bool> alive = std::make_shared<bool>(true);

    ~Impl() {
        destroying = true;
        *alive = false;
        // Runs every outstanding c-ares callback with ARES_EDESTRUCTION (they only free
        // their records now) and closes the sockets through onSocketState.
        if (channel != nullptr) ares_destroy(channel);
    }

    static void onSocketState(void* data, ares_socket_t fd, int readable, int writable) noexcept {
        auto* self = static_cast<Impl*>(data);
        guardCallback("dns socket state", [&] { self->watch(fd, readable != 0, writable != 0); });
    }

    void watch(int fd, bool readable, bool writable) {
        if (!readable && !writable) {
            polls.erase(fd);  // UvHandle closes the poll before c-ares closes the socket
            return;
        }
        auto it = polls.find(fd);
        if (it == polls.end()) {
            UvHandle<uv_poll_t> poll;
            if (uv_poll_init_socket(loop, poll.get(), fd) != 0) return;  // c-ares times the query out
            poll.base()->data = this;
            it = polls.emplace(fd, std::move(poll)).first;
        }
        const int events = (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0);
        uv_poll_start(it->second.get(), events, &Impl::onPoll);
    }

    static void onPoll(uv_poll_t* handle, int status, int events) noexcept {
        auto* self = ownerOf<Impl>(handle);
        if (self == nullptr) return;
        guardCallback("dns poll", [&] {
            uv_os_fd_t fd = -1;
            if (uv_fileno(reinterpret_cast<uv_handle_t*>(handle), &fd) != 0) return;
            // On a poll error let c-ares read the socket: it sees the error and moves on.
            const bool read = status < 0 || (events & UV_READABLE) != 0;
            const bool write = status >= 0 && (events & UV_WRITABLE) != 0;
            ares_process_fd(self->channel, read ? fd : ARES_SOCKET_BAD, write ? fd : ARES_SOCKET_BAD);
            self->afterProcessing();
        });
    }

    static void onAresTimer(uv_timer_t* handle) noexcept {
        auto* self = ownerOf<Impl>(handle);
        if (self == nullptr) return;
        guardCallback("dns timer", [&] {
            ares_process_fd(self->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
            self->afterProcessing();
        });
    }

    static void onDeliveryTimer(uv_timer_t* handle) noexcept {
        auto* self = ownerOf<Impl>(handle);
        if (self == nullptr) return;
        guardCallback("dns delivery", [&] { self->deliver(); });
    }

    static void onAnswer(void* arg, int status, int /*timeouts*/, unsigned char* answer, int length) noexcept {
        std::unique_ptr<PendingQuery> q(static_cast<PendingQuery*>(arg));
        Impl* self = q->impl;
        if (self->inFlight > 0) --self->inFlight;
        if (self->destroying || status == ARES_EDESTRUCTION) return;
        guardCallback("dns answer", [&] {
            // NXDOMAIN and NODATA come with the packet; its rcode is for the caller to read.
            if (answer != nullptr && length > 0) {
                self->completed.push_back(
                    Completion{std::move(q->done), std::vector<uint8_t>(answer, answer + length)});
            } else {
                self->completed.push_back(Completion{
                    std::move(q->done),
                    makeError("DNS query " + q->name + " type " + std::to_string(q->type) + ": " + aresText(status))});
            }
        });
    }

    void afterProcessing() {
        armTimer();
        if (!completed.empty()) deliver();
    }

    void armTimer() {
        timeval tv{};
        if (ares_timeout(channel, nullptr, &tv) == nullptr) {
            uv_timer_stop(aresTimer.get());
            return;
        }
        const uint64_t ms = static_cast<uint64_t>(tv.tv_sec) * 1000 + static_cast<uint64_t>(tv.tv_usec + 999) / 1000;
        uv_timer_start(aresTimer.get(), &Impl::onAresTimer, ms, 0);
    }

    void deliver() {
        const std::shared_ptr<bool> stillAlive = alive;
        std::vector<Completion> batch = std::exchange(completed, {});
        for (Completion& c : batch) {
            guardCallback("dns callback", [&] { c.done(std::move(c.result)); });
            if (!*stillAlive) return;  // a callback destroyed the client: the rest are dropped
        }
    }
};

Result<std::string> dnsServersCsv(const std::vector<std::string>& servers) {
    std::string csv;
    for (const std::string& s : servers) {
        auto addr = SocketAddress::parse(s, 53);
        if (!addr) return makeError("DNS server '" + s + "': " + addr.error().message);
        if (addr->port() == 0) return makeError("DNS server '" + s + "': port 0");
        if (!csv.empty()) csv += ',';
        csv += addr->toString();
    }
    return csv;
}

Result<std::unique_ptr<DnsClient>> DnsClient::create(uv_loop_t* loop, Options options) {
    static const int libraryStatus = ares_library_init(ARES_LIB_INIT_ALL);
    if (libraryStatus != ARES_SUCCESS) return makeError("c-ares initialisation failed: " + aresText(libraryStatus));

    std::string csv;
    if (!options.servers.empty()) {
        auto parsed = dnsServersCsv(options.servers);
        if (!parsed) return parsed.error();
        csv = std::move(*parsed);
    }

    auto impl = std::make_unique<Impl>();
    impl->loop = loop;
    if (int rc = uv_timer_init(loop, impl->aresTimer.get()); rc != 0) {
        return makeError(std::string("DNS timer: ") + uv_strerror(rc));
    }
    impl->aresTimer.base()->data = impl.get();
    if (int rc = uv_timer_init(loop, impl->deliveryTimer.get()); rc != 0) {
        return makeError(std::string("DNS timer: ") + uv_strerror(rc));
    }
    impl->deliveryTimer.base()->data = impl.get();

    ares_options opts{};
    opts.sock_state_cb = &Impl::onSocketState;
    opts.sock_state_cb_data = impl.get();
    opts.timeout = options.timeoutMs;
    opts.tries = options.tries;
    const int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
    if (int rc = ares_init_options(&impl->channel, &opts, mask); rc != ARES_SUCCESS) {
        impl->channel = nullptr;
        return makeError("DNS resolver setup failed: " + aresText(rc));
    }
    if (!csv.empty()) {
        if (int rc = ares_set_servers_ports_csv(impl->channel, csv.c_str()); rc != ARES_SUCCESS) {
            return makeError("DNS servers '" + csv + "': " + aresText(rc));
        }
    }
    return std::unique_ptr<DnsClient>(new DnsClient(std::move(impl)));
}

DnsClient::DnsClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

DnsClient::~DnsClient() = default;

std::size_t DnsClient::pendingQueries() const noexcept { return impl_->inFlight + impl_->completed.size(); }

std::size_t DnsClient::openSockets() const noexcept { return impl_->polls.size(); }

void DnsClient::query(std::string name, int type, Callback done) {
    Impl& impl = *impl_;
    auto* q = new Impl::PendingQuery{&impl, std::move(done), name, type};
    ++impl.inFlight;
    // c-ares may answer at once (a malformed name): onAnswer then only queues the result.
    ares_query(impl.channel, name.c_str(), kClassIn, type, &Impl::onAnswer, q);
    impl.armTimer();
    if (!impl.completed.empty()) uv_timer_start(impl.deliveryTimer.get(), &Impl::onDeliveryTimer, 0, 0);
}

}  // namespace sipreg::net
