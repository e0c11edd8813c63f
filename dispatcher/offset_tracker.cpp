#include "dispatcher/offset_tracker.hpp"

namespace hookstream::dispatcher {

std::int64_t OffsetTracker::committable(const PartitionState& s) {
  std::int64_t out = s.in_flight.empty() ? s.next : *s.in_flight.begin();
  if (!s.abandoned.empty()) out = std::min(out, *s.abandoned.begin());
  return out;
}

void OffsetTracker::assign(const std::vector<kafka::TopicPartition>& partitions) {
  std::lock_guard lock(mu_);
  for (const auto& tp : partitions) {
    auto& state = partitions_.try_emplace(tp).first->second;
    if (const auto it = lingering_.find(tp); it != lingering_.end()) {
      const auto before = state.in_flight.size() + it->second.size();
      state.in_flight.merge(it->second);  // an offset in both is one record: counted once
      count_ -= before - state.in_flight.size();
      lingering_.erase(it);
    }
  }
}

std::vector<kafka::TopicPartitionOffset> OffsetTracker::revoke(
    const std::vector<kafka::TopicPartition>& partitions) {
  std::lock_guard lock(mu_);
  std::vector<kafka::TopicPartitionOffset> out;
  for (const auto& tp : partitions) {
    const auto it = partitions_.find(tp);
    if (it == partitions_.end()) continue;
    const auto offset = committable(it->second);
    if (offset > it->second.committed) out.push_back({tp.topic, tp.partition, offset});
    if (!it->second.in_flight.empty()) {
      auto& lingering = lingering_[tp];
      const auto before = lingering.size() + it->second.in_flight.size();
      lingering.merge(it->second.in_flight);
      count_ -= before - lingering.size();
    }
    partitions_.erase(it);
  }
  return out;
}

bool OffsetTracker::begin(const kafka::TopicPartition& tp, std::int64_t offset) {
  std::lock_guard lock(mu_);
  const auto it = partitions_.find(tp);
  if (it == partitions_.end()) return false;
  if (it->second.in_flight.insert(offset).second) ++count_;
  it->second.next = std::max(it->second.next, offset + 1);
  return true;
}

void OffsetTracker::forget_lingering(const kafka::TopicPartition& tp, std::int64_t offset) {
  const auto l = lingering_.find(tp);
  if (l == lingering_.end()) return;
  count_ -= l->second.erase(offset);
  if (l->second.empty()) lingering_.erase(l);
}

void OffsetTracker::complete(const kafka::TopicPartition& tp, std::int64_t offset) {
  std::lock_guard lock(mu_);
  if (const auto it = partitions_.find(tp); it != partitions_.end())
    count_ -= it->second.in_flight.erase(offset);
  else
    forget_lingering(tp, offset);
}

void OffsetTracker::abandon(const kafka::TopicPartition& tp, std::int64_t offset) {
  std::lock_guard lock(mu_);
  const auto it = partitions_.find(tp);
  if (it == partitions_.end()) {
    forget_lingering(tp, offset);  // not ours any more: its owner reads it again
    return;
  }
  if (it->second.in_flight.erase(offset) == 0) return;
  --count_;
  it->second.abandoned.insert(offset);
}

std::vector<kafka::TopicPartitionOffset> OffsetTracker::take_committable() {
  std::lock_guard lock(mu_);
  std::vector<kafka::TopicPartitionOffset> out;
  for (auto& [tp, s] : partitions_) {
    const auto offset = committable(s);
    if (offset > s.committed) {
      out.push_back({tp.topic, tp.partition, offset});
      s.committed = offset;
    }
  }
  return out;
}

std::size_t OffsetTracker::in_flight() const {
  std::lock_guard lock(mu_);
  return count_;
}

std::size_t OffsetTracker::in_flight(const kafka::TopicPartition& tp) const {
  std::lock_guard lock(mu_);
  const auto it = partitions_.find(tp);
  return it == partitions_.end() ? 0 : it->second.in_flight.size();
}

std::optional<std::int64_t> OffsetTracker::resume_point(const kafka::TopicPartition& tp) const {
  std::lock_guard lock(mu_);
  const auto it = partitions_.find(tp);
  if (it == partitions_.end()) return std::nullopt;
  const auto offset = committable(it->second);
  if (offset < 0) return std::nullopt;
  return offset;
}

}  // namespace hookstream::dispatcher
