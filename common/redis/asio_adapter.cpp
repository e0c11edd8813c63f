#include "common/redis/asio_adapter.hpp"

#include <hiredis/async.h>

namespace hookstream::redis {

Result<std::shared_ptr<AsioAdapter>, std::string> AsioAdapter::attach(
    const asio::any_io_executor& executor, redisAsyncContext* context,
    std::function<void()> on_cleanup) {
  if (context == nullptr || context->ev.data != nullptr) {
    return fail(std::string("hiredis context is null or already attached"));
  }
  auto adapter = std::make_shared<AsioAdapter>(Passkey{}, executor, context, std::move(on_cleanup));
  boost::system::error_code ec;
  adapter->descriptor_.assign(context->c.fd, ec);
  if (ec) return fail("cannot watch the Redis socket: " + ec.message());
  context->ev.data = adapter.get();
  context->ev.addRead = &AsioAdapter::add_read;
  context->ev.delRead = &AsioAdapter::del_read;
  context->ev.addWrite = &AsioAdapter::add_write;
  context->ev.delWrite = &AsioAdapter::del_write;
  context->ev.cleanup = &AsioAdapter::cleanup;
  return adapter;
}

AsioAdapter::AsioAdapter(Passkey, const asio::any_io_executor& executor, redisAsyncContext* context,
                         std::function<void()> on_cleanup)
    : context_(context), descriptor_(executor), on_cleanup_(std::move(on_cleanup)) {}

AsioAdapter::~AsioAdapter() {
  // The fd belongs to hiredis; the descriptor must never close it.
  if (descriptor_.is_open()) descriptor_.release();
}

void AsioAdapter::watch_connect() {
  add_write(this);
}

void AsioAdapter::add_read(void* self) {
  auto* a = static_cast<AsioAdapter*>(self);
  a->want_read_ = true;
  a->arm_read();
}

void AsioAdapter::del_read(void* self) {
  static_cast<AsioAdapter*>(self)->want_read_ = false;
}

void AsioAdapter::add_write(void* self) {
  auto* a = static_cast<AsioAdapter*>(self);
  a->want_write_ = true;
  a->arm_write();
}

void AsioAdapter::del_write(void* self) {
  static_cast<AsioAdapter*>(self)->want_write_ = false;
}

void AsioAdapter::cleanup(void* self) {
  auto* a = static_cast<AsioAdapter*>(self);
  // on_cleanup_ may drop the owner's reference to this adapter.
  const auto keep_alive = a->shared_from_this();
  a->detach();
  if (auto callback = std::move(a->on_cleanup_)) callback();
}

void AsioAdapter::detach() {
  if (context_ != nullptr) {
    context_->ev.data = nullptr;
    context_ = nullptr;
  }
  want_read_ = want_write_ = false;
  // release() deregisters the fd from the reactor and completes queued waits with
  // operation_aborted, without closing the fd that hiredis is about to close itself.
  if (descriptor_.is_open()) descriptor_.release();
}

void AsioAdapter::arm_read() {
  if (read_armed_ || !attached()) return;
  read_armed_ = true;
  descriptor_.async_wait(
      asio::posix::stream_descriptor::wait_read,
      [self = shared_from_this()](const boost::system::error_code& ec) { self->on_readable(ec); });
}

void AsioAdapter::arm_write() {
  if (write_armed_ || !attached()) return;
  write_armed_ = true;
  descriptor_.async_wait(
      asio::posix::stream_descriptor::wait_write,
      [self = shared_from_this()](const boost::system::error_code& ec) { self->on_writable(ec); });
}

void AsioAdapter::on_readable(const boost::system::error_code& ec) {
  read_armed_ = false;
  if (ec == asio::error::operation_aborted || !attached() || !want_read_) return;
  // Any other error (EPOLLERR) is for hiredis to discover: its read fails and it disconnects.
  redisAsyncHandleRead(context_);  // may tear the context down and detach us
  if (attached() && want_read_) arm_read();
}

void AsioAdapter::on_writable(const boost::system::error_code& ec) {
  write_armed_ = false;
  if (ec == asio::error::operation_aborted || !attached() || !want_write_) return;
  redisAsyncHandleWrite(context_);  // may tear the context down and detach us
  if (attached() && want_write_) arm_write();
}

}  // namespace hookstream::redis
