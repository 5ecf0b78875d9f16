#include "machine_load.h"

#include <thread>

#ifdef __linux__
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#endif

namespace muon {

#ifdef __linux__
namespace {

// The whole of a small /proc file into `buffer` (NUL-terminated); false when it cannot be read.
bool readSmallFile(const char* path, char* buffer, size_t size) {
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const ssize_t n = read(fd, buffer, size - 1);
  close(fd);
  if (n <= 0) return false;
  buffer[n] = '\0';
  return true;
}

// /proc/loadavg is "0.52 0.58 0.59 3/712 12345": the fourth field's numerator counts the
// machine's runnable threads (the reader included). -1 when unreadable.
int machineRunnable() {
  char text[128];
  if (!readSmallFile("/proc/loadavg", text, sizeof text)) return -1;
  const char* slash = std::strchr(text, '/');
  if (slash == nullptr) return -1;
  const char* start = slash;
  while (start > text && start[-1] != ' ') --start;
  return std::atoi(start);
}

// Threads of this process in state R: the state is the field after the command name, which is in
// parentheses and may itself hold spaces or parentheses, hence the last ')'.
int processRunnable() {
  DIR* tasks = opendir("/proc/self/task");
  if (tasks == nullptr) return -1;
  int running = 0;
  char path[300], text[512];  // a d_name holds at most 255 characters
  while (const dirent* entry = readdir(tasks)) {
    if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
    std::snprintf(path, sizeof path, "/proc/self/task/%s/stat", entry->d_name);
    if (!readSmallFile(path, text, sizeof text)) continue;  // the thread ended meanwhile
    const char* close = std::strrchr(text, ')');
    if (close != nullptr && close[1] == ' ' && close[2] == 'R') ++running;
  }
  closedir(tasks);
  return running;
}

}  // namespace

MachineLoad sampleMachineLoad(int wanted) {
  cpu_set_t set;
  CPU_ZERO(&set);
  const int cpus = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : static_cast<int>(std::thread::hardware_concurrency());
  const int machine = machineRunnable();
  if (machine < 0) return {cpus, -1};
  if (cpus - (machine - 1) >= wanted) return {cpus, machine > 1 ? machine - 1 : 0};
  const int own = processRunnable();
  if (own < 0) return {cpus, machine - 1};
  return {cpus, machine > own ? machine - own : 0};
}
#else
MachineLoad sampleMachineLoad(int) { return {static_cast<int>(std::thread::hardware_concurrency()), -1}; }
#endif

}  // namespace muon
