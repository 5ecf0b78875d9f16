import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { loadNativeAddon, type NativeAddonInfo } from 'muon-tfjs';

/**
 * fp32 flops per cycle per core from the vector extensions: two FMA units of 16 (AVX-512), 8 (AVX2)
 * or 4 (SSE, multiply and add separately) lanes. Two units is an assumption, checked on the
 * machine these figures come from: one core's OpenBLAS sgemm (1024³) measures 153 GFLOP/s, 92% of
 * 2.6 GHz × 64. (Issue 4 quoted 157 GFLOP/s for the whole machine, the AVX2 figure; the CPU has
 * AVX-512, so that figure understated the peak by half.)
 */
function flopsPerCycle(flags: readonly string[]): number {
  if (flags.includes('avx512f')) return 64;
  if (flags.includes('avx2') && flags.includes('fma')) return 32;
  return 16;
}

function cpuInfoField(name: string): string | undefined {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(name));
    return line?.split(':')[1]?.trim();
  } catch {
    return undefined; // not Linux
  }
}

/** The CPU's nominal clock in GHz (/proc/cpuinfo), or undefined where it cannot be read. */
function clockGhz(): number | undefined {
  const mhz = Number(cpuInfoField('cpu MHz'));
  return Number.isFinite(mhz) && mhz > 0 ? mhz / 1000 : undefined;
}

/**
 * This machine's fp32 peak in GFLOP/s: cores × nominal clock × flops per cycle (2 × 2.6 × 64 = 333
 * on the 2-core Xeon of the published figures), used for the "% of peak" columns and the lower
 * bounds. 0 where the clock cannot be read.
 */
export const PEAK_GFLOPS = cpus().length * (clockGhz() ?? 0) * flopsPerCycle((cpuInfoField('flags') ?? '').split(/\s+/));

/** What the benchmarks ran on: printed above every table and stored in the JSON. */
export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  readonly clockGhz: number | null;
  readonly peakGflops: number;
  readonly flags: string[];
  readonly node: string;
  readonly tfjs: string;
  readonly nativeKernel: string;
}

export function machineInfo(): MachineInfo {
  const flags = (cpuInfoField('flags') ?? '').split(/\s+/).filter((f) => /^(avx|fma|sse4|f16c|amx)/.test(f));
  const status = loadNativeAddon();
  return {
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    clockGhz: clockGhz() ?? null,
    peakGflops: Number(PEAK_GFLOPS.toFixed(1)),
    flags,
    node: process.version,
    tfjs: tf.version_core,
    nativeKernel: status.available ? nativeKernelLine(status.addon.info()) : `absent: ${status.reason}`,
  };
}

/** The addon's libraries, bfloat16 availability, the CPU's bfloat16 features and its threads, in one line. */
function nativeKernelLine(info: NativeAddonInfo): string {
  const libraries = info.onednn === null ? info.blas.trim() : `${info.onednn} + ${info.blas.trim()}`;
  return `${libraries}; bfloat16 ${info.bfloat16 ? 'available' : info.products.bfloat16}; CPU avx512_bf16 ${String(info.cpu.avx512Bf16)}, amx_bf16 ${String(info.cpu.amxBf16)}; ${info.threads} threads`;
}

export function printMachine(info: MachineInfo): void {
  console.log(`CPU: ${info.cpuModel}, ${info.cores} cores at ${info.clockGhz?.toFixed(2) ?? '?'} GHz, fp32 peak ${info.peakGflops} GFLOP/s; flags: ${info.flags.join(' ')}`);
  console.log(`Node ${info.node}, tfjs-core ${info.tfjs}; native kernel: ${info.nativeKernel}`);
}
