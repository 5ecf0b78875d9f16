#include "worker_pool.h"

#include <algorithm>
#include <system_error>

namespace muon {

WorkerPool::~WorkerPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& thread : threads_) thread.join();
}

void WorkerPool::run(size_t helpers, const std::function<void()>& work) {
  std::unique_lock<std::mutex> lock(mutex_);
  while (threads_.size() < helpers) {
    try {
      threads_.emplace_back([this, index = threads_.size()] { loop(index); });
    } catch (const std::system_error&) {
      break;  // no more threads to be had: fewer helpers share the work
    }
  }
  work_ = &work;
  wanted_ = std::min(helpers, threads_.size());
  running_ = wanted_;
  ++generation_;
  wake_.notify_all();
  lock.unlock();
  work();
  lock.lock();
  done_.wait(lock, [this] { return running_ == 0; });
  work_ = nullptr;
}

void WorkerPool::loop(size_t index) {
  size_t seen = 0;
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
    if (stopping_) return;
    seen = generation_;
    if (index >= wanted_) continue;
    const std::function<void()>* work = work_;
    lock.unlock();
    (*work)();
    lock.lock();
    if (--running_ == 0) done_.notify_all();
  }
}

}  // namespace muon
