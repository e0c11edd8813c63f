#pragma once
// Result<T, E>: the value of an operation that can fail in an expected way. Expected failures
// (a bad request, an unreachable broker, a failing endpoint) travel as values; exceptions are kept
// for start-up and programming errors.
#include <cassert>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace hookstream {

// The generic failure: a stable machine-readable code and a message for humans.
struct Error {
  std::string code;
  std::string message;
};

template <typename E>
struct Unexpected {
  E error;
};

template <typename E>
Unexpected<std::decay_t<E>> fail(E&& e) {
  return {std::forward<E>(e)};
}
inline Unexpected<Error> fail(std::string code, std::string message) {
  return {Error{std::move(code), std::move(message)}};
}

template <typename T, typename E = Error>
class [[nodiscard]] Result {
 public:
  using value_type = T;
  using error_type = E;

  template <typename U = T>
  requires std::is_constructible_v<T, U&&> Result(U&& value)
      : v_(std::in_place_index<0>, std::forward<U>(value)) {}
  template <typename G>
  requires std::is_constructible_v<E, G&&> Result(Unexpected<G> u)
      : v_(std::in_place_index<1>, std::move(u.error)) {}

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { return checked_value(); }
  const T& value() const& { return const_cast<Result*>(this)->checked_value(); }
  T&& value() && { return std::move(checked_value()); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const E& error() const& {
    assert(!ok());
    return std::get<1>(v_);
  }
  E&& error() && {
    assert(!ok());
    return std::get<1>(std::move(v_));
  }

  template <typename U>
  T value_or(U&& fallback) const& {
    return ok() ? std::get<0>(v_) : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  T& checked_value() {
    assert(ok() && "Result::value() on an error");
    return std::get<0>(v_);
  }
  std::variant<T, E> v_;
};

template <typename E>
class [[nodiscard]] Result<void, E> {
 public:
  using value_type = void;
  using error_type = E;

  Result() = default;
  template <typename G>
  requires std::is_constructible_v<E, G&&> Result(Unexpected<G> u)
      : error_(std::move(u.error)), ok_(false) {}

  bool ok() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  const E& error() const& {
    assert(!ok_);
    return error_;
  }
  E&& error() && {
    assert(!ok_);
    return std::move(error_);
  }

 private:
  E error_{};
  bool ok_ = true;
};

}  // namespace hookstream
