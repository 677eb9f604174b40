// Drawing the job's progress on stderr: one bar for all ranks, with their output lines kept intact.
#include "launcher/coord/job_view.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

namespace strike::launcher {

JobView::JobView(worker::ProgressOptions options) : options_(std::move(options)) {
  bar_ = options_.mode == "bar" || (options_.mode == "auto" && ::isatty(STDERR_FILENO));
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
    erase_bar();
    bar_text_ = describe(s);
    std::fprintf(stderr, "%s", bar_text_.c_str());
    std::fflush(stderr);
    return;
  }
  // Plain: a line each time the job passes a multiple of plain_every steps, and at each phase's end.
  const bool new_phase = s.phase != plain_phase_ || s.epoch != plain_epoch_;
  const int64_t every = std::max<int64_t>(options_.plain_every, 1);
  const bool due = new_phase ? s.phase_step >= every || s.phase_step == s.phase_steps
                             : s.phase_step / every > plain_step_ / every ||
                                   (s.phase_step == s.phase_steps && plain_step_ != s.phase_steps);
  if (!due) return;
  plain_phase_ = s.phase;
  plain_epoch_ = s.epoch;
  plain_step_ = s.phase_step;
  std::fprintf(stderr, "%s\n", describe(s).c_str());
  std::fflush(stderr);
}

void JobView::erase_bar() {
  if (bar_text_.empty()) return;
  std::fprintf(stderr, "\r\033[2K");
  bar_text_.clear();
}

void JobView::print(int fd, const std::string& line) {
  const std::string text = bar_text_;
  erase_bar();
  std::fflush(stderr);
  std::FILE* out = fd == 1 ? stdout : stderr;
  std::fprintf(out, "%s\n", line.c_str());
  std::fflush(out);
  if (!text.empty()) {
    bar_text_ = text;
    std::fprintf(stderr, "%s", bar_text_.c_str());
    std::fflush(stderr);
  }
}

void JobView::say(const std::string& message) { print(2, "strike: " + message); }

void JobView::finish() {
  erase_bar();
  std::fflush(stderr);
}

}  // namespace strike::launcher
