import { cpus, loadavg, totalmem } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import type { BenchMode, BenchmarkEntry, TuningProtocol } from '../protocol/tuningProtocol.js';
import { RESULTS_SCHEMA_VERSION, type BenchResults, type ModelResult } from './results.js';

/** What a benchmark run was asked to do and when it started: what results.json says besides the models. */
export interface BenchRun {
  command: string;
  mode: BenchMode;
  backend: string;
  simd: boolean | null;
  /** What `describeKernels` said: the backend's threads, Muon's orthogonalization kernel and its threads. */
  kernels: string;
  entries: readonly BenchmarkEntry[];
  /** The compared optimizers' kinds. */
  optimizers: readonly string[];
  seeds: readonly number[];
  protocol: TuningProtocol;
  /** `performance.now()` and `process.cpuUsage()` at the start. */
  started: number;
  cpuStarted: NodeJS.CpuUsage;
  /** `os.loadavg()` at the start: the 1, 5 and 15-minute load averages. */
  loadStarted: number[];
}

const cpuSeconds = (usage: NodeJS.CpuUsage): number => (usage.user + usage.system) / 1e6;

/** Load averages with two decimals (what `uptime` prints). */
const roundedLoad = (load: readonly number[]): number[] => load.map((x) => Math.round(x * 100) / 100);

/** The machine, backend and kernels the run measured on, and its load at the start and now. */
function machineDescription(run: BenchRun): BenchResults['machine'] {
  const { backend, simd } = run;
  const cpu = cpus();
  return {
    cpu: cpu[0]?.model ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    backend: `${backend} (tfjs ${tf.version_core})`,
    simd,
    loadAverage: { start: roundedLoad(run.loadStarted), end: roundedLoad(loadavg()) },
    kernels: run.kernels,
  };
}

/** The results so far: every finished model, with the run's configuration, machine and cost. */
export function collectResults(run: BenchRun, models: readonly ModelResult[]): BenchResults {
  const { protocol } = run;
  return {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    tool: 'muon-tfjs bench',
    createdAt: new Date().toISOString(),
    command: run.command,
    machine: machineDescription(run),
    config: {
      mode: run.mode,
      models: run.entries.map((e) => e.task.id),
      optimizers: [...run.optimizers],
      seeds: [...run.seeds],
      epochs: Object.fromEntries(run.entries.map((e) => [e.task.id, e.epochs])),
      tuneFraction: protocol.tuneFraction,
      maxExtensions: protocol.maxExtensions,
      lrSelection: `lowest validation loss (held-out split) after ${protocol.tuneFraction === 1 ? 'the full' : `${protocol.tuneFraction} of the`} measured run's steps ` +
        `with the schedule compressed to that length, seed ${run.seeds[0]}; a grid whose best value is at an edge is extended ` +
        `geometrically in that direction until the best is interior, at most ${protocol.maxExtensions} points`,
    },
    totalSeconds: (performance.now() - run.started) / 1000,
    totalCpuSeconds: cpuSeconds(process.cpuUsage(run.cpuStarted)),
    models: [...models],
  };
}
