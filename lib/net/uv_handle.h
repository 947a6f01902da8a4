#pragma once
// Owner of one libuv handle. libuv keeps using a handle's memory until its close callback
// has run, and handles cannot move, so the struct lives on the heap and is freed by the
// close callback: the C++ owner may then die at once, while the loop finishes the close.
//
// Callbacks find their owner through handle->data; reset() clears it first, so every
// trampoline starts with `if (handle->data == nullptr) return;` ("owner gone").
#include <uv.h>

#include <exception>
#include <type_traits>
#include <utility>

namespace sipreg::net {

template <class T>
class UvHandle {
public:
    UvHandle() : h_(new T{}) {}  // zero-initialised: loop == nullptr until uv_*_init
    ~UvHandle() { reset(); }
    UvHandle(const UvHandle&) = delete;
    UvHandle& operator=(const UvHandle&) = delete;
    UvHandle(UvHandle&& other) noexcept : h_(std::exchange(other.h_, nullptr)) {}
    UvHandle& operator=(UvHandle&& other) noexcept {
        if (this != &other) {
            reset();
            h_ = std::exchange(other.h_, nullptr);
        }
        return *this;
    }

    T* get() const noexcept { return h_; }
    uv_handle_t* base() const noexcept { return reinterpret_cast<uv_handle_t*>(h_); }
    explicit operator bool() const noexcept { return h_ != nullptr; }
    // True once uv_*_init succeeded and until reset().
    bool initialised() const noexcept { return h_ != nullptr && base()->loop != nullptr; }

    // Detaches the owner and starts the asynchronous close; the memory is freed by the
    // close callback (or at once if the handle was never initialised).
    void reset() noexcept {
        if (h_ == nullptr) return;
        uv_handle_t* b = base();
        b->data = nullptr;
        if (b->loop == nullptr) {
            delete h_;
        } else if (!uv_is_closing(b)) {
            uv_close(b, &UvHandle::onClosed);
        }
        h_ = nullptr;
    }

private:
    static void onClosed(uv_handle_t* p) noexcept { delete reinterpret_cast<T*>(p); }

    T* h_;
};

// Owner of the object stored in handle->data, or nullptr when the owner is gone.
template <class Owner, class Handle>
Owner* ownerOf(Handle* h) noexcept {
    return h == nullptr ? nullptr : static_cast<Owner*>(reinterpret_cast<uv_handle_t*>(h)->data);
}

// Reports an exception that escaped a callback; exceptions must never unwind through
// libuv's C frames. Defined in uv_handle.cc (it logs).
void reportCallbackException(const char* where, const std::exception* e) noexcept;

// Runs `body` and stops every exception at the C boundary.
template <class F>
void guardCallback(const char* where, F&& body) noexcept {
    try {
        std::forward<F>(body)();
    } catch (const std::exception& e) {
        reportCallbackException(where, &e);
    } catch (...) {
        reportCallbackException(where, nullptr);
    }
}

}  // namespace sipreg::net
