// What one user of the engine keeps between calls: its thread count, its pool and the fused step's
// scratch. Plain C++ (no N-API): the addon keeps one per loaded copy (bindings.cc; every worker
// thread that loads the addon gets its own, so their calls never wait for each other's pool or
// write each other's scratch: issue 22), the engine's test program one of its own.
// Process-wide, and safe to share: oneDNN's engine and primitive cache (thread-safe); OpenBLAS's
// thread count, the one setting that cannot be per thread, is guarded by OpenBlasThreads
// (products.h).
#pragma once

#include <vector>

#include "products.h"
#include "worker_pool.h"

namespace muon {

struct Engine {
  // Threads of a call: those of a product that runs alone, and the pool's helpers plus the caller.
  // OpenBLAS's count for the process when the first Engine was made, by default (defaultThreads).
  int threads = defaultThreads();
  WorkerPool pool;
  // muonStep's Nesterov look-ahead per variable (fused_muon_step.cc), kept so that a step
  // allocates nothing after the first.
  std::vector<std::vector<float>> lookAhead;
};

}  // namespace muon
