import { describe, expect, it } from 'vitest';
import type { BenchResults } from '../results/results.js';
import { busyMachineWarning, machineLine } from './machineLine.js';

const machine = (start: number[], end: number[]): BenchResults['machine'] => ({
  cpu: 'AMD EPYC', cores: 2, memoryGiB: 24, node: 'v20.20.2', platform: 'linux-x64', backend: 'wasm (tfjs 4.22.0)', simd: true,
  loadAverage: { start, end }, kernels: "TF.js wasm (1 XNNPACK thread, SIMD); Muon's Newton–Schulz: native, oneDNN, 2 threads",
});

describe('the machine line and the busy-machine warning', () => {
  it('names the kernels and the 1/5/15-minute load averages at the start and the end', () => {
    expect(machineLine(machine([0.5, 0.25, 0.125], [1.5, 1, 0.75]))).toBe(
      "AMD EPYC, 2 cores, 24 GiB; Node v20.20.2 (linux-x64); wasm (tfjs 4.22.0): TF.js wasm (1 XNNPACK thread, SIMD); Muon's Newton–Schulz: native, oneDNN, 2 threads; " +
      'load average (1 / 5 / 15 min) 0.50 / 0.25 / 0.13 at the start, 1.50 / 1.00 / 0.75 at the end');
    // A results.json written before the load and kernels were recorded.
    const { loadAverage: _load, kernels: _kernels, ...older } = machine([0, 0, 0], [0, 0, 0]);
    expect(machineLine(older)).toBe('AMD EPYC, 2 cores, 24 GiB; Node v20.20.2 (linux-x64); backend wasm (tfjs 4.22.0), SIMD');
    expect(busyMachineWarning(older)).toBeNull();
  });

  it('warns when a load average is above the core count, at the start or at the end', () => {
    expect(busyMachineWarning(machine([1.9, 1.5, 1], [2, 2, 1.5]))).toBeNull();
    expect(busyMachineWarning(machine([2.01, 1, 1], [1, 1, 1]))).toMatch(/^The machine was busy: load average 2\.01 \/ 1\.00 \/ 1\.00 at the start and 1\.00 \/ 1\.00 \/ 1\.00 at the end \(1 \/ 5 \/ 15 min\), above its 2 cores\./);
    expect(busyMachineWarning(machine([0.1, 0.1, 0.1], [3.5, 1, 1]))).toContain('the seconds (time to target, wall, their ratios) are inflated and unreliable; steps and losses are not affected');
    // The 5-minute average at the end covers most of a short run: busy in the middle, calm at both ends.
    expect(busyMachineWarning(machine([0.1, 0.1, 0.1], [1, 2.6, 1]))).not.toBeNull();
    // The 15-minute average reaches back before the run: not counted.
    expect(busyMachineWarning(machine([0.1, 0.1, 4], [1, 1, 4]))).toBeNull();
  });
});
