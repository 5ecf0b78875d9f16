// What one loaded copy of the addon keeps between calls. Node runs the addon's code once per
// process, but every worker thread that loads it gets its own AddonInstance (N-API instance data,
// made in Init and deleted when that worker's environment ends), whereas C++ statics are shared by
// every thread of the process. So state that a call writes lives here or in thread_local scratch
// (per OS thread: per worker and per pool thread), never in a static: a static look-ahead buffer
// shared by the workers' muonStep calls once gave their steps each other's values (issue 22).
// Process-wide, and safe to share: oneDNN's engine and primitive cache (thread-safe); OpenBLAS's
// thread count, the one setting that cannot be per thread, is guarded by OpenBlasThreads
// (products.h).
#pragma once

#include <napi.h>

#include <memory>
#include <vector>

namespace muon_native {

class WorkerPool;  // muon_native.cc

struct AddonInstance {
  AddonInstance();
  ~AddonInstance();  // ends the pool's threads
  AddonInstance(const AddonInstance&) = delete;
  AddonInstance& operator=(const AddonInstance&) = delete;

  // Threads of a call (`setThreads`; OpenBLAS's count for the process at first load by default):
  // those of a product that runs alone, and the pool's helpers plus the caller.
  int threads;
  // Helper threads of this copy only, so that workers' calls never wait for each other's.
  std::unique_ptr<WorkerPool> pool;
  // muonStep's Nesterov look-ahead per variable (fused_muon_step.cc), kept so that a step
  // allocates nothing after the first.
  std::vector<std::vector<float>> lookAhead;
};

// The calling environment's copy (set in Init).
AddonInstance& addonInstance(Napi::Env env);

}  // namespace muon_native
