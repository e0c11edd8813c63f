#pragma once
// Drives a hiredis 0.14 async context from an Asio executor (hiredis ships no Asio adapter).
//
// hiredis tells the adapter, through the context's ev hooks, when it wants to read or write; the
// adapter waits for readiness on the context's fd with a stream_descriptor and calls back into
// redisAsyncHandleRead/Write. hiredis owns the fd: when it tears the context down it calls the
// cleanup hook first, and the adapter then releases (never closes) the descriptor and stops
// calling into the context. Waits still queued at that point find the adapter detached and do
// nothing; they keep the adapter object alive through a shared_ptr until they have run.
//
// Not thread-safe: the context, the adapter and every hiredis callback live on one executor.
#include <functional>
#include <memory>
#include <string>

#include "common/asio.hpp"
#include "common/result.hpp"

struct redisAsyncContext;

namespace hookstream::redis {

class AsioAdapter : public std::enable_shared_from_this<AsioAdapter> {
  struct Passkey {};

 public:
  // Installs the ev hooks on `context` (whose ev.data must still be unset). `on_cleanup` runs when
  // hiredis tears the context down (after it has failed the pending callbacks, before it closes
  // the fd and frees the context); the context must not be used after it.
  static Result<std::shared_ptr<AsioAdapter>, std::string> attach(
      const asio::any_io_executor& executor, redisAsyncContext* context,
      std::function<void()> on_cleanup);

  AsioAdapter(Passkey, const asio::any_io_executor& executor, redisAsyncContext* context,
              std::function<void()> on_cleanup);
  ~AsioAdapter();
  AsioAdapter(const AsioAdapter&) = delete;
  AsioAdapter& operator=(const AsioAdapter&) = delete;

  // hiredis 0.14 notices that a non-blocking connect finished (or failed) only on an I/O event,
  // and asks for one only once a command is queued; this asks for it right away.
  void watch_connect();

  bool attached() const { return context_ != nullptr; }

 private:
  static void add_read(void* self);
  static void del_read(void* self);
  static void add_write(void* self);
  static void del_write(void* self);
  static void cleanup(void* self);

  void arm_read();
  void arm_write();
  void on_readable(const boost::system::error_code& ec);
  void on_writable(const boost::system::error_code& ec);
  void detach();

  redisAsyncContext* context_;
  asio::posix::stream_descriptor descriptor_;
  std::function<void()> on_cleanup_;
  // hiredis' hooks are level-style ("keep telling me while I want it"); Asio waits are one-shot,
  // so a wait is re-armed after each event for as long as hiredis still wants that direction.
  bool want_read_ = false;
  bool want_write_ = false;
  bool read_armed_ = false;
  bool write_armed_ = false;
};

}  // namespace hookstream::redis
