#include "engine.h"

#include <algorithm>

#include "machine_load.h"

namespace muon {

int Engine::threadsForCall() {
  int count = threads;
  MachineLoad load{0, -1};
  if (followsLoad) {
    load = sampleMachineLoad(threads);
    if (load.othersRunnable >= 0) count = std::clamp(load.cpus - load.othersRunnable, 1, threads);
  }
  lastCall = {count, load.cpus, load.othersRunnable, 1};
  ++calls;
  return count;
}

}  // namespace muon
