#include "common/kafka/producer.hpp"

#include <algorithm>
#include <array>
#include <string_view>

#include "common/kafka/conf.hpp"
#include "common/kafka/error.hpp"
#include "common/log.hpp"
#include "common/thread_name.hpp"

namespace hookstream::kafka {
namespace {

constexpr std::int32_t kAnyPartition = -1;  // RD_KAFKA_PARTITION_UA without its C cast
constexpr Millis kMaxCloseFlush{5000};
constexpr int kPollIntervalMs = 50;

// Settings that SPEC §5 promises; the deployment may not weaken them.
constexpr std::array<std::string_view, 5> kGuarded{
    "enable.idempotence", "acks", "request.required.acks", "max.in.flight.requests.per.connection",
    "max.in.flight"};

}  // namespace

// One per accepted record, owned by librdkafka (as the message opaque) until its report.
struct Producer::Pending {
  DeliveryCallback callback;
};

Producer::Producer(ProducerOptions options) : options_(std::move(options)) {}

Result<std::unique_ptr<Producer>> Producer::create(const KafkaConfig& config,
                                                   const ProducerOptions& options) {
  if (options.delivery_timeout <= Millis{0})
    return fail("kafka_invalid_config", "producer delivery timeout must be positive");
  auto conf = make_conf(
      {
          {"bootstrap.servers", config.brokers},
          {"client.id", options.client_id},
          {"enable.idempotence", "true"},
          {"acks", "all"},
          // One request in flight per broker: with more, librdkafka 2.0.2 takes a later batch's
          // success as an implicit ack of an earlier one that failed (NOT_LEADER on a partition
          // whose leader just moved or was just created, where the broker has no state for this
          // producer and accepts the later sequence), and reports records that were never
          // written as delivered. Batches still carry many records each.
          {"max.in.flight.requests.per.connection", "1"},
          {"message.timeout.ms", std::to_string(options.delivery_timeout.count())},
          // While its broker is down, a broker thread checks message timeouts only when it wakes
          // to reconnect; librdkafka's default backoff (up to 10 s) would stretch the delivery
          // bound by that much.
          {"reconnect.backoff.max.ms", "1000"},
      },
      config.properties, kGuarded);
  if (!conf) return fail(conf.error().to_error());

  std::unique_ptr<Producer> producer(new Producer(options));
  rd_kafka_conf_set_opaque(conf->get(), producer.get());
  rd_kafka_conf_set_dr_msg_cb(conf->get(), &Producer::on_delivery_report);
  rd_kafka_conf_set_error_cb(conf->get(), &Producer::on_error);
  producer->conf_.reset(rd_kafka_conf_dup(conf->get()));

  std::array<char, 512> errstr{};
  // On success rd_kafka_new takes the conf; on failure it stays ours.
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf->get(), errstr.data(), errstr.size());
  if (!rk)
    return fail("kafka_invalid_config",
                std::string("cannot create Kafka producer: ") + errstr.data());
  (void)conf->release();
  producer->handle_.reset(rk);
  producer->poll_thread_ = std::thread([p = producer.get()] {
    name_this_thread("hs-kafka-poll");
    p->poll_loop();
  });
  return producer;
}

Producer::~Producer() {
  if (!handle_) return;
  const auto grace = std::min(options_.delivery_timeout, kMaxCloseFlush);
  if (!wait_idle(grace)) {
    log::warn("kafka producer closing with undelivered records; purging them",
              {{"in_flight", in_flight()}});
    {
      std::shared_lock handle_lock(handle_mu_);
      rd_kafka_purge(handle_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    }
    // Purged records get their (failed) reports through the poll thread, promptly.
    (void)wait_idle(Millis{2000});
  }
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  poll_thread_.join();
  handle_.reset();
}

Result<void> Producer::produce(kafka::Record record, DeliveryCallback on_delivery) {
  HeadersPtr headers(rd_kafka_headers_new(record.headers.size()));
  for (const auto& h : record.headers)
    rd_kafka_header_add(headers.get(), h.name.data(), static_cast<ssize_t>(h.name.size()),
                        h.value.data(), static_cast<ssize_t>(h.value.size()));

  auto pending = std::make_unique<Pending>(Pending{std::move(on_delivery)});
  std::vector<rd_kafka_vu_t> args;
  args.reserve(8);
  auto& topic = args.emplace_back();
  topic.vtype = RD_KAFKA_VTYPE_TOPIC;
  topic.u.cstr = record.topic.c_str();
  auto& partition = args.emplace_back();
  partition.vtype = RD_KAFKA_VTYPE_PARTITION;
  partition.u.i32 = record.partition >= 0 ? record.partition : kAnyPartition;
  auto& value = args.emplace_back();
  value.vtype = RD_KAFKA_VTYPE_VALUE;
  value.u.mem = {record.value.data(), record.value.size()};
  if (record.key) {
    auto& key = args.emplace_back();
    key.vtype = RD_KAFKA_VTYPE_KEY;
    key.u.mem = {record.key->data(), record.key->size()};
  }
  if (record.timestamp_ms > 0) {
    auto& ts = args.emplace_back();
    ts.vtype = RD_KAFKA_VTYPE_TIMESTAMP;
    ts.u.i64 = record.timestamp_ms;
  }
  auto& flags = args.emplace_back();
  flags.vtype = RD_KAFKA_VTYPE_MSGFLAGS;
  flags.u.i = RD_KAFKA_MSG_F_COPY;  // never RD_KAFKA_MSG_F_BLOCK: a full queue is a value
  auto& hdrs = args.emplace_back();
  hdrs.vtype = RD_KAFKA_VTYPE_HEADERS;
  hdrs.u.headers = headers.get();
  auto& opaque = args.emplace_back();
  opaque.vtype = RD_KAFKA_VTYPE_OPAQUE;
  opaque.u.ptr = pending.get();

  {
    // Counted before produceva: the report may arrive on the poll thread before it returns.
    std::lock_guard lock(mu_);
    ++in_flight_;
  }
  ErrorPtr error;
  {
    std::shared_lock handle_lock(handle_mu_);
    error.reset(rd_kafka_produceva(handle_.get(), args.data(), args.size()));
  }
  if (error) {
    {
      std::lock_guard lock(mu_);
      --in_flight_;
    }
    idle_cv_.notify_all();
    return fail(
        make_error(rd_kafka_error_code(error.get()), "produce to " + record.topic).to_error());
  }
  (void)headers.release();  // librdkafka owns them now
  (void)pending.release();  // reclaimed in on_delivery_report
  return {};
}

Result<void> Producer::flush(Millis timeout) {
  if (wait_idle(timeout)) return {};
  return fail(KafkaError{KafkaErrc::timed_out, RD_KAFKA_RESP_ERR__TIMED_OUT,
                         std::to_string(in_flight()) + " record(s) still undelivered after " +
                             format_duration(timeout)}
                  .to_error());
}

Result<void> Producer::check_cluster(Millis timeout) const {
  const rd_kafka_metadata_t* metadata = nullptr;
  std::shared_lock handle_lock(handle_mu_);
  const auto err =
      rd_kafka_metadata(handle_.get(), 0, nullptr, &metadata, static_cast<int>(timeout.count()));
  if (metadata) rd_kafka_metadata_destroy(metadata);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    return fail(make_error(err, "metadata request").to_error());
  return {};
}

std::size_t Producer::handles_replaced() const {
  std::lock_guard lock(mu_);
  return handles_replaced_;
}

void Producer::raise_fatal_error_for_test(const std::string& reason) {
  std::shared_lock handle_lock(handle_mu_);
  rd_kafka_test_fatal_error(handle_.get(), RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
                            reason.c_str());
}

std::size_t Producer::in_flight() const {
  std::lock_guard lock(mu_);
  return in_flight_;
}

bool Producer::wait_idle(Millis timeout) {
  std::unique_lock lock(mu_);
  return idle_cv_.wait_for(lock, timeout, [this] { return in_flight_ == 0; });
}

void Producer::poll_loop() {
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
    // Only this thread replaces the handle, so it reads it without the lock.
    rd_kafka_poll(handle_.get(), kPollIntervalMs);
    if (fatal_.exchange(false)) replace_fatal_handle();
  }
}

void Producer::replace_fatal_handle() {
  ConfPtr conf(rd_kafka_conf_dup(conf_.get()));
  std::array<char, 512> errstr{};
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), errstr.data(), errstr.size());
  if (!rk) {
    log::error("cannot replace the failed kafka producer", {{"error", errstr.data()}});
    return;
  }
  (void)conf.release();
  HandlePtr old;
  {
    std::unique_lock handle_lock(handle_mu_);
    old = std::move(handle_);
    handle_.reset(rk);
  }
  std::size_t replaced = 0;
  {
    std::lock_guard lock(mu_);
    replaced = ++handles_replaced_;
  }
  log::warn("kafka producer replaced after a fatal error; its unfinished records fail as retriable",
            {{"replacements", replaced}, {"unfinished", rd_kafka_outq_len(old.get())}});
  // Its records fail now (reported as fenced, so callers produce them again); polling it delivers
  // those reports, on this thread.
  retiring_ = old.get();
  rd_kafka_purge(old.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  const auto deadline = std::chrono::steady_clock::now() + kMaxCloseFlush;
  while (rd_kafka_outq_len(old.get()) > 0 && std::chrono::steady_clock::now() < deadline)
    rd_kafka_poll(old.get(), kPollIntervalMs);
  rd_kafka_poll(old.get(), 0);
  old.reset();
  retiring_ = nullptr;
}

void Producer::on_delivery_report(rd_kafka_t* rk, const rd_kafka_message_t* msg, void* opaque) {
  auto* self = static_cast<Producer*>(opaque);
  std::unique_ptr<Pending> pending(static_cast<Pending*>(msg->_private));
  if (pending && pending->callback) {
    if (msg->err) {
      // Purged from a handle replaced after a fatal error: the cause is the fatal error.
      const bool retired = rk == self->retiring_ && (msg->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE ||
                                                     msg->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT);
      pending->callback(fail(make_error(retired ? RD_KAFKA_RESP_ERR__FATAL : msg->err,
                                        std::string("delivery to ") + rd_kafka_topic_name(msg->rkt))
                                 .to_error()));
    } else {
      pending->callback(DeliveryReport{rd_kafka_topic_name(msg->rkt), msg->partition, msg->offset});
    }
  }
  {
    std::lock_guard lock(self->mu_);
    --self->in_flight_;
  }
  self->idle_cv_.notify_all();
}

void Producer::on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  const auto code = static_cast<rd_kafka_resp_err_t>(err);
  if (code == RD_KAFKA_RESP_ERR__FATAL) {
    std::array<char, 512> detail{};
    const auto fatal = rd_kafka_fatal_error(rk, detail.data(), detail.size());
    log::error("kafka producer fatal error; replacing the handle",
               {{"error", rd_kafka_err2name(fatal)}, {"detail", detail.data()}});
    // Called on the poll thread, from rd_kafka_poll: the loop replaces the handle after it.
    static_cast<Producer*>(opaque)->fatal_ = true;
    return;
  }
  // Transport errors recur while a broker is down; librdkafka retries by itself.
  log::warn("kafka producer error", {{"error", rd_kafka_err2name(code)}, {"detail", reason}});
}

}  // namespace hookstream::kafka
