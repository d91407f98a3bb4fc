// Status.h - llmc's error values: Status and StatusOr<T>, shared by compiler and runtime.
//
// Errors are values at every library boundary: no exceptions cross them and nothing aborts on bad
// input. A message names the file (or flag) and what is wrong with it. The command-line tools map
// kInvalidArgument/kNotFound/kUnsupported to exit code 2 (the user's input) and kInternal to 1 (ours).
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>

namespace llmc {

enum class StatusCode { kOk = 0, kInvalidArgument, kNotFound, kUnsupported, kUnavailable, kInternal };

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // Exit code for command-line tools: 2 for bad input, 1 for internal errors.
  int exitCode() const { return ok() ? 0 : (code_ == StatusCode::kInternal ? 1 : 2); }
  // Returns a copy with "prefix: " put before the message (adds the file name, say).
  Status withPrefix(const std::string& prefix) const {
    return ok() ? *this : Status(code_, prefix + ": " + message_);
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return Status(StatusCode::kInvalidArgument, std::move(m)); }
inline Status NotFound(std::string m) { return Status(StatusCode::kNotFound, std::move(m)); }
inline Status Unsupported(std::string m) { return Status(StatusCode::kUnsupported, std::move(m)); }
inline Status Unavailable(std::string m) { return Status(StatusCode::kUnavailable, std::move(m)); }
inline Status Internal(std::string m) { return Status(StatusCode::kInternal, std::move(m)); }

template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(Status status) : status_(std::move(status)) { assert(!status_.ok()); }
  StatusOr(T value) : value_(std::move(value)) {}

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace llmc

#define LLMC_STATUS_CONCAT_INNER(a, b) a##b
#define LLMC_STATUS_CONCAT(a, b) LLMC_STATUS_CONCAT_INNER(a, b)

// Returns the Status of `expr` from the enclosing function when it is not ok.
#define LLMC_RETURN_IF_ERROR(expr)             \
  do {                                         \
    ::llmc::Status llmc_status_ = (expr);      \
    if (!llmc_status_.ok()) return llmc_status_; \
  } while (0)

// `LLMC_ASSIGN_OR_RETURN(auto x, f());` declares x from a StatusOr or returns its error.
#define LLMC_ASSIGN_OR_RETURN(lhs, expr) \
  LLMC_ASSIGN_OR_RETURN_IMPL(LLMC_STATUS_CONCAT(llmc_statusor_, __LINE__), lhs, expr)
#define LLMC_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return tmp.status();              \
  lhs = std::move(tmp).value()
