#pragma once
// Result<T>: the value-or-error type for everything a user or a peer can get wrong.
// Exceptions are reserved for programmer errors and start-up failures.
#include <cassert>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace sipreg {

struct Error {
    std::string message;
    // Byte offset (into a message) or 0-based position the error refers to, when known.
    std::size_t offset = kNoOffset;

    static constexpr std::size_t kNoOffset = static_cast<std::size_t>(-1);
    bool hasOffset() const noexcept { return offset != kNoOffset; }
};

template <class T>
class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
    Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

    bool ok() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }

    T& value() & { assert(ok()); return std::get<0>(v_); }
    const T& value() const& { assert(ok()); return std::get<0>(v_); }
    T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
    const Error& error() const { assert(!ok()); return std::get<1>(v_); }

    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

private:
    std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error) : err_(std::move(error)), ok_(false) {}  // NOLINT
    bool ok() const noexcept { return ok_; }
    explicit operator bool() const noexcept { return ok_; }
    const Error& error() const { assert(!ok_); return err_; }

private:
    Error err_;
    bool ok_ = true;
};

inline Error makeError(std::string message, std::size_t offset = Error::kNoOffset) {
    return Error{std::move(message), offset};
}

}  // namespace sipreg
