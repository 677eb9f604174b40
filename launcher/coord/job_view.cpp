// Drawing the job's progress on stderr: one bar for all ranks, with their output lines kept intact.
#include "launcher/coord/job_view.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>

namespace strike::launcher {

namespace {

// Writes all of `text` to `fd`, waiting as long as the reader needs; gives up only on a real error
// (a closed pipe: nobody is reading any more).
void write_all(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

constexpr const char* kEraseLine = "\r\033[2K";

}  // namespace

JobView::JobView(worker::ProgressOptions options) : options_(std::move(options)) {
  bar_ = options_.mode == "bar" || (options_.mode == "auto" && ::isatty(STDERR_FILENO));
  writer_ = std::thread([this] { write_loop(); });
}

JobView::~JobView() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  writer_.join();
}

void JobView::emit(int fd, std::string text) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queued_bytes_ += text.size();
    queue_.emplace_back(fd, std::move(text));
  }
  wake_.notify_all();
}

size_t JobView::backlog() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return queued_bytes_;
}

void JobView::write_loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and everything is out
    auto [fd, text] = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    write_all(fd, text);
    lock.lock();
    queued_bytes_ -= text.size();
  }
}

std::string JobView::describe(const JobSnapshot& s) const {
  std::string text = fmt::format("{} {}/{}", s.phase, s.epoch, s.epochs);
  if (bar_) {
    constexpr int64_t kWidth = 24;
    const int64_t filled = s.phase_steps > 0 ? kWidth * s.phase_step / s.phase_steps : 0;
    std::string bar(static_cast<size_t>(filled), '=');
    if (filled < kWidth) bar += '>' + std::string(static_cast<size_t>(kWidth - filled - 1), ' ');
    text += " [" + bar + "]";
  } else {
    text = s.phase + " epoch " + std::to_string(s.epoch) + "/" + std::to_string(s.epochs) + " step";
  }
  text += fmt::format(" {}/{} loss {:.4f} acc {:.4f} {:.0f} samples/s", s.phase_step, s.phase_steps, s.loss, s.metric,
                      s.samples_per_sec);
  if (s.lr > 0) text += fmt::format(" lr {:.2e}", s.lr);
  text += " ETA " + worker::clock_string(s.eta_seconds);
  if (s.world > 1) {
    text += fmt::format(" | {}/{} ranks", s.connected, s.world);
    if (s.slowest_rank >= 0) text += fmt::format(", slowest {}", s.slowest_rank);
  }
  return text;
}

void JobView::update(const JobSnapshot& s) {
  if (options_.mode == "none" || s.phase.empty()) return;
  auto now = std::chrono::steady_clock::now();
  if (bar_) {
    if (now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    const bool drawn = !bar_text_.empty();
    bar_text_ = describe(s);
    emit(STDERR_FILENO, (drawn ? kEraseLine : "") + bar_text_);
    return;
  }
  // Plain: a line each time the job passes a multiple of plain_every steps, and at each phase's end.
  if (unprinted_ && (s.phase != unprinted_->phase || s.epoch != unprinted_->epoch)) {
    emit(STDERR_FILENO, describe(*unprinted_) + "\n");  // that phase ended between two updates
    plain_phase_ = unprinted_->phase;
    plain_epoch_ = unprinted_->epoch;
    plain_step_ = unprinted_->phase_step;
  }
  unprinted_.reset();
  const bool new_phase = s.phase != plain_phase_ || s.epoch != plain_epoch_;
  const int64_t every = std::max<int64_t>(options_.plain_every, 1);
  const bool due = new_phase ? s.phase_step >= every || s.phase_step == s.phase_steps
                             : s.phase_step / every > plain_step_ / every ||
                                   (s.phase_step == s.phase_steps && plain_step_ != s.phase_steps);
  if (!due) {
    unprinted_ = s;
    return;
  }
  plain_phase_ = s.phase;
  plain_epoch_ = s.epoch;
  plain_step_ = s.phase_step;
  emit(STDERR_FILENO, describe(s) + "\n");
}

void JobView::erase_bar() {
  if (bar_text_.empty()) return;
  emit(STDERR_FILENO, kEraseLine);
  bar_text_.clear();
}

void JobView::print(int fd, const std::string& line) {
  const std::string bar = bar_text_;
  erase_bar();
  emit(fd == STDOUT_FILENO ? STDOUT_FILENO : STDERR_FILENO, line + "\n");
  if (!bar.empty()) {
    bar_text_ = bar;
    emit(STDERR_FILENO, bar_text_);
  }
}

void JobView::say(const std::string& message) { print(STDERR_FILENO, "strike: " + message); }

void JobView::finish() { erase_bar(); }

}  // namespace strike::launcher
