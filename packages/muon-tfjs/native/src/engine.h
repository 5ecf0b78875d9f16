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

// How a call chose its thread count (Engine::threadsForCall).
struct CallThreading {
  int threads;         // the team of a product that runs alone (threadsForCall's count)
  int cpus;            // CPUs it could run on; 0 when it did not look (a fixed count)
  int othersRunnable;  // other processes' runnable threads it saw; -1 when it did not look or could not
  int sideBySide;      // threads that ran whole matrices side by side, one each (orthogonalizeAll); 1 when none did
};

struct Engine {
  // The most threads of a call: those of a product that runs alone, and the pool's helpers plus the
  // caller. OpenBLAS's count for the process when the first Engine was made, by default
  // (defaultThreads: the cores, or OPENBLAS_NUM_THREADS).
  int threads = defaultThreads();
  // Whether a call runs on fewer threads while other processes keep the CPUs busy
  // (threadsForCall); false: always exactly `threads`.
  bool followsLoad = true;
  CallThreading lastCall{0, 0, -1, 1};
  unsigned long calls = 0;

  // The thread count of a call starting now, recorded in lastCall: `threads`, or when following
  // the load, the CPUs that other processes' runnable threads leave free (machine_load.h), between
  // 1 and `threads`. Why: the products split over a team in lock step, and a team member waiting
  // for a core that another process holds stalls the whole product for that process's time slice
  // (issue 25: beside two CPU-bound processes on 2 cores the MLP's training step took 19.8× AdamW's).
  // Whole matrices, which need no partner, still run side by side on all `threads`
  // (orthogonalizeAll in newton_schulz.h).
  // The bits of a product can depend on the count (OpenBLAS's always, oneDNN's for some shapes), so
  // a run that must be reproducible bit for bit fixes it (followsLoad = false; setThreads).
  int threadsForCall();
  WorkerPool pool;
  // muonStep's Nesterov look-ahead per variable (fused_muon_step.cc), kept so that a step
  // allocates nothing after the first.
  std::vector<std::vector<float>> lookAhead;
  // dion2Step's selected submatrix and its orthogonalization per variable (fused_dion2_step.cc), kept likewise.
  std::vector<std::vector<float>> selectedSlices;
};

}  // namespace muon
