#include "kafka_dev/serve.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include <cstdio>
#include <fstream>

#include "common/log.hpp"
#include "kafka_dev/embedded_cluster.hpp"

namespace hookstream::kafka_dev {
namespace {

sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

// Written to a temporary name and renamed, so a reader never sees half a line.
Result<void> write_bootstrap_file(const std::filesystem::path& path, const std::string& line) {
  const auto tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << line << '\n';
    if (!out.flush()) return fail("io", "cannot write " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return fail("io", "cannot rename " + tmp + " to " + path.string() + ": " + ec.message());
  return {};
}

// Splits stdin into lines and applies each as a fault command, answering on stdout.
class ControlChannel {
 public:
  explicit ControlChannel(EmbeddedCluster& cluster) : cluster_(cluster) {}

  // Reads what stdin has; false once it is closed (nothing more will come).
  bool read_some() {
    char buf[4096];
    const auto n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0) return errno == EINTR || errno == EAGAIN;
    if (n == 0) return false;
    pending_.append(buf, static_cast<std::size_t>(n));
    std::size_t eol = 0;
    while ((eol = pending_.find('\n')) != std::string::npos) {
      apply(std::string_view(pending_).substr(0, eol));
      pending_.erase(0, eol + 1);
    }
    return true;
  }

 private:
  void apply(std::string_view line) {
    ++seq_;
    auto command = parse_fault_command(line);
    Result<void> applied = command ? cluster_.apply(*command) : fail(command.error());
    if (applied) {
      log::info("fault injected", {{"command", std::string(line)}, {"seq", seq_}});
      std::printf("control %llu ok\n", static_cast<unsigned long long>(seq_));
    } else {
      log::warn("fault command refused",
                {{"command", std::string(line)}, {"error", applied.error().message}});
      std::printf("control %llu error: %s\n", static_cast<unsigned long long>(seq_),
                  applied.error().message.c_str());
    }
    std::fflush(stdout);
  }

  EmbeddedCluster& cluster_;
  std::string pending_;
  std::uint64_t seq_ = 0;
};

// Waits for a stop signal (blocked in every thread, so it queues for the signalfd); meanwhile
// applies fault commands from stdin when `control` is given.
int wait_for_stop(const sigset_t& set, ControlChannel* control) {
  const int sfd = signalfd(-1, &set, SFD_CLOEXEC);
  if (sfd < 0) {
    log::error("cannot create signalfd", {{"errno", errno}});
    return 1;
  }
  bool stdin_open = control != nullptr;
  for (;;) {
    pollfd fds[2] = {{sfd, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
    const int n = ::poll(fds, stdin_open ? 2 : 1, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      log::error("poll failed", {{"errno", errno}});
      ::close(sfd);
      return 1;
    }
    if (fds[0].revents & POLLIN) {
      signalfd_siginfo info{};
      if (::read(sfd, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
        log::info("stopping embedded Kafka cluster",
                  {{"signal", info.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM"}});
        ::close(sfd);
        return 0;
      }
    }
    if (stdin_open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)))
      stdin_open = control->read_some();
  }
}

}  // namespace

void block_stop_signals() {
  const auto set = stop_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int serve(const ServeOptions& options) {
  auto cluster = EmbeddedCluster::start(options.brokers);
  if (!cluster) {
    log::error("cannot start embedded Kafka cluster", {{"error", cluster.error().message}});
    return 1;
  }
  auto topics = kafka::deployment_topics(options.kafka, options.retry_schedule,
                                         options.events_partitions, options.partitions);
  topics.insert(topics.end(), options.extra_topics.begin(), options.extra_topics.end());
  for (const auto& topic : topics) {
    if (auto r = (*cluster)->create_topic(topic); !r) {
      log::error("cannot create topic", {{"topic", topic.name}, {"error", r.error().message}});
      return 1;
    }
    log::info("topic created", {{"topic", topic.name}, {"partitions", topic.partitions}});
  }

  const auto& bootstraps = (*cluster)->bootstraps();
  if (options.bootstrap_file) {
    if (auto r = write_bootstrap_file(*options.bootstrap_file, bootstraps); !r) {
      log::error("cannot write bootstrap file", {{"error", r.error().message}});
      return 1;
    }
  }
  log::info("embedded Kafka cluster ready",
            {{"bootstrap", bootstraps}, {"brokers", (*cluster)->broker_count()}});
  std::printf("bootstrap=%s\n", bootstraps.c_str());
  std::fflush(stdout);

  ControlChannel control(**cluster);
  return wait_for_stop(stop_signals(), options.control_stdin ? &control : nullptr);
}

}  // namespace hookstream::kafka_dev
