import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { loadNativeAddon } from '../src/kernels/nativeAddon.js';

/**
 * This machine's fp32 peak used for the "% of peak" columns: 2 cores × 2.45 GHz × 32 flops/cycle
 * (two 8-wide AVX2 FMA units), as stated in issue 4. The CPU also has AVX-512, which Debian's
 * OpenBLAS uses (its SkylakeX kernels): its sgemm measures up to about 290 GFLOP/s here, so the
 * native kernel's fraction of this figure can exceed 100%.
 */
export const PEAK_GFLOPS = 157;

/** What the benchmarks ran on: printed above every table and stored in the JSON. */
export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  readonly flags: string[];
  readonly node: string;
  readonly tfjs: string;
  readonly nativeKernel: string;
}

export function machineInfo(): MachineInfo {
  let flags: string[] = [];
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('flags'));
    flags = (line?.split(':')[1] ?? '').trim().split(/\s+/).filter((f) => /^(avx|fma|sse4|f16c)/.test(f));
  } catch {
    // not Linux: no flags to show
  }
  const status = loadNativeAddon();
  return {
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    flags,
    node: process.version,
    tfjs: tf.version_core,
    nativeKernel: status.available ? `${status.addon.info().blas.trim()}, ${status.addon.info().threads} threads` : `absent: ${status.reason}`,
  };
}

export function printMachine(info: MachineInfo): void {
  console.log(`CPU: ${info.cpuModel}, ${info.cores} cores; flags: ${info.flags.join(' ')}`);
  console.log(`Node ${info.node}, tfjs-core ${info.tfjs}; native kernel: ${info.nativeKernel}`);
}

/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Reads `--name value` from the command line. */
export function argument(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
