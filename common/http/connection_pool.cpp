#include "common/http/connection_pool.hpp"

#include <sys/socket.h>

#include <cerrno>

namespace hookstream::http {

bool Connection::looks_alive() {
  auto& socket = tcp().socket();
  if (!socket.is_open()) return false;
  char byte;
  const ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n == 0) return false;  // the peer closed it
  if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
  // Unasked bytes on plain HTTP mean a confused peer. On TLS they may be a late session ticket,
  // which the next read consumes.
  return tls != nullptr;
}

Connection::~Connection() {
  if (watch_) watch_->owner = nullptr;
}

void Connection::watch(SteadyTime deadline) {
  if (!watch_) {
    watch_ = std::make_shared<Watch>(Watch{this});
    watchdog_.emplace(tcp().get_executor());
  }
  watchdog_->expires_at(deadline);
  watchdog_->async_wait(
      [w = watch_, generation = ++watch_->generation](const boost::system::error_code& ec) {
        if (ec || !w->owner || w->generation != generation) return;  // cancelled, gone or reused
        w->owner->late_ = true;
        boost::system::error_code ignored;
        w->owner->tcp().socket().close(ignored);
      });
}

void Connection::unwatch() {
  if (!watch_) return;
  ++watch_->generation;
  watchdog_->cancel();
}

namespace {

// A connection idle for less than this is reused without the peek, a recv(2) per request on a
// busy endpoint: receivers keep idle connections open for seconds, and a reused connection that
// turns out to be closed is retried once on a fresh one (DeliveryClient), so the peek only spares
// that retry.
constexpr Millis kTrustedIdle{1000};

}  // namespace

ConnectionPool::ConnectionPool(std::size_t max_idle_per_origin, Millis idle_timeout)
    : max_idle_per_origin_(max_idle_per_origin), idle_timeout_(idle_timeout) {}

std::unique_ptr<Connection> ConnectionPool::take(std::string_view origin, SteadyTime now) {
  maybe_prune(now);
  const auto it = idle_.find(origin);
  if (it == idle_.end()) return nullptr;
  auto& connections = it->second;
  std::unique_ptr<Connection> found;
  while (!connections.empty() && !found) {
    auto candidate = std::move(connections.back());
    connections.pop_back();
    const auto idle = now - candidate->idle_since;
    if (idle >= idle_timeout_) continue;  // not pruned yet
    if (idle < kTrustedIdle || candidate->looks_alive()) found = std::move(candidate);
  }
  // An emptied origin stays (prune drops it): on a busy endpoint every connection is taken and
  // put back per request, and erasing would rebuild the entry, its key and its deque each time.
  return found;
}

void ConnectionPool::put(std::string_view origin, std::unique_ptr<Connection> connection,
                         SteadyTime now) {
  if (max_idle_per_origin_ == 0) return;
  connection->idle_since = now;
  auto it = idle_.find(origin);
  if (it == idle_.end()) it = idle_.emplace(std::string(origin), Connections{}).first;
  auto& connections = it->second;
  connections.push_back(std::move(connection));
  while (connections.size() > max_idle_per_origin_) connections.pop_front();
  maybe_prune(now);
}

// A walk over every origin (thousands, for a dispatcher delivering to many receivers), so not on
// every request: a tenth of the idle timeout apart.
void ConnectionPool::maybe_prune(SteadyTime now) {
  if (now - last_prune_ >= idle_timeout_ / 10) prune(now);
}

void ConnectionPool::prune(SteadyTime now) {
  last_prune_ = now;
  for (auto it = idle_.begin(); it != idle_.end();) {
    auto& connections = it->second;
    while (!connections.empty() && now - connections.front()->idle_since >= idle_timeout_)
      connections.pop_front();
    it = connections.empty() ? idle_.erase(it) : std::next(it);
  }
}

std::size_t ConnectionPool::idle_connections() const {
  std::size_t n = 0;
  for (const auto& [origin, connections] : idle_) n += connections.size();
  return n;
}

}  // namespace hookstream::http
