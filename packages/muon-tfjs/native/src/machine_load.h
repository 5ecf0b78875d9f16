// How busy the machine is right now, for the engine's thread count (Engine::threadsForCall): the
// CPUs this thread may run on and the runnable threads of other processes. Read per call, since
// load on laptops, CI boxes and shared servers comes and goes within seconds; the load averages
// (what OMP_DYNAMIC consults in libgomp: the 15-minute one) lag by a minute or more.
#pragma once

namespace muon {

struct MachineLoad {
  int cpus;            // CPUs in this thread's affinity mask (sched_getaffinity)
  int othersRunnable;  // runnable threads of other processes; -1 where it cannot be read (not Linux)
};

// The machine's load as far as a call that wants `wanted` threads needs to know it. Linux: the
// running count of /proc/loadavg (every runnable thread of the machine, the caller included); when
// that leaves `wanted` CPUs free even if every other runnable thread were another process's (the
// idle machine: a few microseconds), othersRunnable is that upper bound. Otherwise this process's
// threads in state R (/proc/self/task/*/stat: the caller, and helper threads of OpenMP or OpenBLAS
// still spinning after an earlier call, which compete with no one's work but ours) are subtracted
// (tens of microseconds). Elsewhere othersRunnable is -1.
MachineLoad sampleMachineLoad(int wanted);

}  // namespace muon
