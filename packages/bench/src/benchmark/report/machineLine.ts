import type { BenchResults } from '../results/results.js';

type Machine = BenchResults['machine'];

const formatLoad = (load: readonly number[]): string => load.map((x) => x.toFixed(2)).join(' / ');

/**
 * The machine a run measured on, in one line: CPU, cores, memory, Node, backend, the kernels that
 * ran (backend threads, Muon's orthogonalization and its threads) and the 1/5/15-minute load
 * averages at the start and the end (results written before they were recorded omit them).
 */
export function machineLine(m: Machine): string {
  const kernels = m.kernels === undefined ? `backend ${m.backend}${m.simd === null ? '' : m.simd ? ', SIMD' : ', no SIMD'}` : `${m.backend}: ${m.kernels}`;
  const load = m.loadAverage === undefined ? '' : `; load average (1 / 5 / 15 min) ${formatLoad(m.loadAverage.start)} at the start, ${formatLoad(m.loadAverage.end)} at the end`;
  return `${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB; Node ${m.node} (${m.platform}); ${kernels}${load}`;
}

/**
 * A warning when other work shared the CPU: the 1-minute load average at the start or the end, or
 * the 5-minute one at the end (most of a short run), above the number of cores. Then the seconds
 * (time to target, wall, the time ratios) are inflated by the wait for a core and say little;
 * steps and losses do not depend on the load (a run is deterministic per seed). Null otherwise,
 * and for results without load averages.
 */
export function busyMachineWarning(m: Machine): string | null {
  if (m.loadAverage === undefined) return null;
  const { start, end } = m.loadAverage;
  const peak = Math.max(start[0] ?? 0, end[0] ?? 0, end[1] ?? 0);
  if (!(peak > m.cores)) return null;
  return `The machine was busy: load average ${formatLoad(start)} at the start and ${formatLoad(end)} at the end (1 / 5 / 15 min), above its ${m.cores} cores. ` +
    'Other work shared the CPU, so the seconds (time to target, wall, their ratios) are inflated and unreliable; steps and losses are not affected. Rerun on an idle machine for times.';
}
