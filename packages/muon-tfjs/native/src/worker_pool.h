// Threads kept for the life of an Engine (engine.h), so that a step neither starts threads nor
// reallocates their scratch (each keeps its thread_local workspace). Plain C++: no N-API.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace muon {

class WorkerPool {
 public:
  WorkerPool() = default;
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;
  // Called when the owning Engine ends (in the addon: when its worker's environment ends), between
  // calls, when the threads are idle.
  ~WorkerPool();

  // Runs `work` on `helpers` pool threads and on the caller, and returns when all are done. One
  // caller at a time (the Engine's owner). Threads are started on first need; where the system
  // gives no more, fewer helpers share the work. The waits block (condition variables): an idle
  // helper costs no CPU.
  void run(size_t helpers, const std::function<void()>& work);

 private:
  void loop(size_t index);

  std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> threads_;
  const std::function<void()>* work_ = nullptr;
  size_t wanted_ = 0, running_ = 0, generation_ = 0;
  bool stopping_ = false;
};

}  // namespace muon
