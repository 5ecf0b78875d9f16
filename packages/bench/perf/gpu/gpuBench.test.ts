import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { countDispatches, type GpuBenchConfig, runGpuBench } from './gpuBench.js';
import { formatGpuBenchTables } from './gpuBenchReport.js';
import { startNodeWebGpu } from './nodeWebGpu.js';

// bench:gpu's Node half on a tiny configuration: webgpu through Dawn, on SwiftShader's Vulkan
// driver here (Debian's chromium package), on the machine's own driver where one is installed.
const webgpu = await startNodeWebGpu();

const TINY: GpuBenchConfig = { models: ['toy'], runs: 2, stepsPerRun: 2, warmupSteps: 1, newtonSchulzShape: [32, 64], vocabSize: 16 };

describe.runIf(webgpu.started)('bench:gpu on webgpu in Node', () => {
  it('counts one GPU program for one element-wise op', () => {
    // Above WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD (1000 values), so the add is not forwarded to the CPU.
    const a = tf.ones([64, 64]);
    let sum: tf.Tensor | undefined;
    expect(countDispatches(() => (sum = tf.add(a, a)))).toBe(1);
    tf.dispose([a, sum as tf.Tensor]);
  });

  it('measures every model asked and the Newton–Schulz micro-benchmark, and names the adapter', async () => {
    if (!webgpu.started) throw new Error('unreachable: the suite runs only where webgpu started');
    const result = await runGpuBench(TINY, webgpu.adapter);
    expect(result.backend).toBe('webgpu');
    expect(result.dispatchUnit).toBe('gpu programs');
    expect(result.adapter.name).not.toBe('');
    // SwiftShader must say it is software; a hardware adapter must not.
    expect(result.adapter.software).toBe(/swiftshader/i.test(result.adapter.name));
    // Muon's step runs on webgpu in Node (the device-side all-or-nothing guard reads nothing back).
    expect(result.errors).toEqual([]);
    expect(result.models).toHaveLength(1);
    for (const model of result.models) {
      expect(model.optimizers.map((o) => o.optimizer)).toEqual(['muon', 'adamw']);
      for (const o of model.optimizers) {
        expect(o.stepMs).toBeGreaterThan(0);
        expect(o.runsMs).toHaveLength(TINY.runs);
        expect(o.dispatchesPerStep).toBeGreaterThan(o.optimizerDispatchesPerStep);
      }
      // MLP 2-32-32-2 under muonWithAdamW's default routing: Muon gets both hidden layers'
      // kernels, AdamW the output head and the biases.
      expect(model.muonMatrices).toEqual([[2, 32], [32, 32]]);
      expect(model.newtonSchulzDispatches).toBeGreaterThan(0);
    }
    const ns = result.newtonSchulz;
    expect(ns).not.toBeNull();
    expect(ns?.shape).toEqual([32, 64]);
    expect(ns?.ms).toBeGreaterThan(0);
    expect(ns?.matmulGflops).toBeGreaterThan(0);
    expect(ns?.rateVsMatmul).toBeCloseTo((ns?.gflops ?? 0) / (ns?.matmulGflops ?? 1), 12);
    expect(ns?.dispatches).toBeGreaterThan(0);

    const tables = formatGpuBenchTables([{ environment: 'node', ...result }]);
    expect(tables).toContain(result.adapter.name);
    if (result.adapter.software) {
      expect(tables).toContain('YES: not GPU figures');
      expect(tables).not.toMatch(/\| (yes|no) \|/); // no verdict against a GPU target
    }
  });
});

if (!webgpu.started) it.skip(`bench:gpu on webgpu in Node: skipped, ${webgpu.reason}`, () => undefined);
