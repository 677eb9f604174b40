// Progress bar / plain progress lines on stderr (rank 0 only).
#include "worker/progress.h"

#include <unistd.h>

#include <cstdio>

namespace strike::worker {

std::string clock_string(double seconds) {
  if (seconds < 0 || seconds > 1e7) return "--:--";
  int64_t s = static_cast<int64_t>(seconds + 0.5);
  char buffer[32];
  if (s >= 3600) std::snprintf(buffer, sizeof buffer, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  else std::snprintf(buffer, sizeof buffer, "%ld:%02ld", s / 60, s % 60);
  return buffer;
}

Progress::Progress(ProgressOptions options, bool enabled) : options_(std::move(options)), enabled_(enabled) {
  if (options_.mode == "none") enabled_ = false;
  bar_ = options_.mode == "bar" || (options_.mode == "auto" && ::isatty(STDERR_FILENO));
}

void Progress::begin(const std::string& phase, int64_t epoch, int64_t epochs, int64_t total) {
  phase_ = phase;
  epoch_ = epoch;
  epochs_ = epochs;
  total_ = total;
  start_ = last_draw_ = std::chrono::steady_clock::now();
  drawn_ = false;
}

void Progress::update(int64_t done, double loss, double accuracy, double samples_per_sec, double lr) {
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  if (bar_) {
    // Redrawing more often than ~10 Hz costs time and shows nothing new.
    if (done < total_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
  } else if (done % options_.plain_every != 0 && done != total_) {
    return;
  }
  last_draw_ = now;
  draw(done, loss, accuracy, samples_per_sec, lr);
}

void Progress::draw(int64_t done, double loss, double accuracy, double samples_per_sec, double lr) {
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  double eta = done > 0 ? elapsed * static_cast<double>(total_ - done) / static_cast<double>(done) : -1;
  char stats[160];
  char lr_text[32] = "";
  if (lr > 0) std::snprintf(lr_text, sizeof lr_text, " lr %.2e", lr);  // evaluation has no learning rate
  std::snprintf(stats, sizeof stats, "loss %.4f acc %.4f %.0f samples/s%s ETA %s", loss, accuracy, samples_per_sec,
                lr_text, clock_string(eta).c_str());
  if (bar_) {
    constexpr int kWidth = 24;
    int filled = total_ > 0 ? static_cast<int>(kWidth * done / total_) : kWidth;
    std::string bar(static_cast<size_t>(filled), '=');
    if (filled < kWidth) bar += '>' + std::string(static_cast<size_t>(kWidth - filled - 1), ' ');
    std::fprintf(stderr, "\r\033[2K%s %ld/%ld [%s] %ld/%ld %s", phase_.c_str(), epoch_, epochs_, bar.c_str(), done,
                 total_, stats);
  } else {
    std::fprintf(stderr, "%s epoch %ld/%ld step %ld/%ld %s\n", phase_.c_str(), epoch_, epochs_, done, total_, stats);
  }
  std::fflush(stderr);
  drawn_ = true;
}

void Progress::end() {
  if (enabled_ && bar_ && drawn_) {
    std::fputc('\n', stderr);
    std::fflush(stderr);
  }
  drawn_ = false;
}

}  // namespace strike::worker
