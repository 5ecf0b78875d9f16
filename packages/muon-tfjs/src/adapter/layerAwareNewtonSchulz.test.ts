import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { matrixWithSingularValues } from '../diagnostics/float64Matrices.js';
import { singularValues } from '../diagnostics/polarFactor.js';
import { gramOrthogonalizer } from '../kernels/gramOrthogonalizer.js';
import { loadNativeAddon } from '../kernels/nativeAddon.js';
import { nativeCapabilities, nativeOrthogonalizer } from '../kernels/nativeOrthogonalizer.js';
import { layerAwareSchedule, lowerBoundFloor, snapLowerBound } from '../math/layerAwareSchedule.js';
import type { NewtonSchulzSchedule } from '../math/newtonSchulzSchedule.js';
import { type OrthogonalizationPlanner, orthogonalizationPlanner } from '../math/orthogonalizationPlanner.js';
import { GENERAL_MATMUL_CAPABILITIES } from '../math/planOrthogonalization.js';
import type { Orthogonalizer } from '../math/orthogonalizer.js';
import { MUON_LOWER_BOUND_SLOT } from '../transforms/scaleByMuon.js';
import { useBackend } from '../testing/backends.js';
import { countSyncReads } from '../testing/syncReadCounter.js';
import { WEBGPU_MISSING, reportWebGpuSkipped } from '../testing/webgpuBackend.js';
import { muonWithAdamW } from './MuonWithAdamWOptimizer.js';
import { muon, normuon } from './optimizers.js';

const SIZE = 32;
/** All σ equal: normalized σ = 1/√32 = 0.177 everywhere, so q90 = 0.177 → ℓ = 0.1, 2 steps. */
const FLAT = Array.from({ length: SIZE }, () => 1);
/** σᵢ = 10^(−3i/31): 1 down to 1e-3, a heavy tail; q90 = σ₂₈/‖σ‖ = 1.17e-3 → ℓ = 1e-3, 5 steps. */
const HEAVY_TAIL = Array.from({ length: SIZE }, (_, i) => 10 ** ((-3 * i) / (SIZE - 1)));

function gradient(s: readonly number[], seed: number): tf.Tensor2D {
  return tf.tensor2d(matrixWithSingularValues(SIZE, SIZE, s, seed).g.to2DArray(), [SIZE, SIZE], 'float32');
}

/** ℓ from an independent reference: ml-matrix's float64 SVD of the float32 gradient, normalized, q90 = σ[⌈0.9·32⌉ − 1 = 28]. */
function referenceLowerBound(g: tf.Tensor2D): number {
  const sigma = singularValues(g);
  const norm = Math.sqrt(sigma.reduce((sum, x) => sum + x * x, 0));
  return snapLowerBound((sigma[28] as number) / norm);
}

/** Wraps a kernel's planner, recording what it is asked to plan (shape and schedule), and the calls' schedules. */
function recording(make: (planner: OrthogonalizationPlanner) => Orthogonalizer, capabilities = GENERAL_MATMUL_CAPABILITIES) {
  const plans: { rows: number; cols: number; schedule: NewtonSchulzSchedule }[] = [];
  const calls: { count: number; schedule: NewtonSchulzSchedule }[] = [];
  const own = orthogonalizationPlanner(capabilities);
  const kernel = make((rows, cols, schedule) => {
    plans.push({ rows, cols, schedule });
    return own(rows, cols, schedule);
  });
  const orthogonalize: Orthogonalizer = (matrices, schedule) => {
    calls.push({ count: matrices.length, schedule });
    return kernel(matrices, schedule);
  };
  return { plans, calls, orthogonalize };
}

describe("nsSteps: 'auto'", () => {
  beforeAll(() => useBackend('cpu'));

  const kernels = [
    ['TF.js kernel', (planner: OrthogonalizationPlanner) => gramOrthogonalizer({ planner }), GENERAL_MATMUL_CAPABILITIES],
    ...(loadNativeAddon().available ? [['native kernel', (planner: OrthogonalizationPlanner) => nativeOrthogonalizer({ planner }), nativeCapabilities()] as const] : []),
  ] as const;

  it.each(kernels)('%s: a flat layer gets fewer steps than a heavy-tailed one, and the kernel plans each with its own schedule', (kernelName, make, capabilities) => {
    const flat = tf.variable(tf.zeros([SIZE, SIZE]), true, `auto_flat_${kernelName}`);
    const heavy = tf.variable(tf.zeros([SIZE, SIZE]), true, `auto_heavy_${kernelName}`);
    const { plans, calls, orthogonalize } = recording(make, capabilities);
    const optimizer = muon({ nsSteps: 'auto', execution: { orthogonalize } });
    // Step 1: the Nesterov input is (1−β)g + β(1−β)g ∝ g, so its spectrum is the gradient's.
    const gFlat = gradient(FLAT, 1);
    const gHeavy = gradient(HEAVY_TAIL, 3);
    optimizer.applyGradients({ [flat.name]: gFlat, [heavy.name]: gHeavy });
    const expectedFlat = layerAwareSchedule(referenceLowerBound(gFlat), 1e-7);
    const expectedHeavy = layerAwareSchedule(referenceLowerBound(gHeavy), 1e-7);
    expect(referenceLowerBound(gFlat)).toBeCloseTo(0.1, 12);
    expect(referenceLowerBound(gHeavy)).toBeCloseTo(1e-3, 12);
    expect([expectedFlat.steps, expectedHeavy.steps]).toEqual([2, 5]);
    // One kernel call per schedule, each planned with that schedule.
    expect(calls.map((c) => [c.count, c.schedule])).toEqual([[1, expectedFlat], [1, expectedHeavy]]);
    expect(plans.map((p) => p.schedule)).toEqual([expectedFlat, expectedHeavy]);
    expect(optimizer.getSlot(flat.name, MUON_LOWER_BOUND_SLOT)?.dataSync()[0]).toBeCloseTo(0.1, 7);
    // The update is the polynomial of that schedule: for the flat layer every σ maps to the same
    // p(0.177), so the update is p·UVᵀ·(−lr), with singular values all equal.
    const update = tf.tidy(() => tf.div(tf.neg(flat), optimizer.learningRate) as tf.Tensor2D);
    const sigma = singularValues(update);
    expect(Math.max(...sigma) - Math.min(...sigma)).toBeLessThan(1e-4);
    tf.dispose([flat, heavy, gFlat, gHeavy, update]);
    optimizer.dispose();
  });

  it('nsAutoMaxSteps caps the heavy-tailed layer (ℓ clamped to lowerBoundFloor), and leaves the flat one alone', () => {
    const flat = tf.variable(tf.zeros([SIZE, SIZE]), true, 'auto_capped_flat');
    const heavy = tf.variable(tf.zeros([SIZE, SIZE]), true, 'auto_capped_heavy');
    const { calls, orthogonalize } = recording((planner) => gramOrthogonalizer({ planner }));
    const optimizer = muon({ nsSteps: { kind: 'auto', maxSteps: 3 }, execution: { orthogonalize } });
    optimizer.applyGradients({ [flat.name]: gradient(FLAT, 1), [heavy.name]: gradient(HEAVY_TAIL, 3) });
    expect(calls.map((c) => c.schedule.steps)).toEqual([2, 3]);
    expect(optimizer.getSlot(heavy.name, MUON_LOWER_BOUND_SLOT)?.dataSync()[0]).toBeCloseTo(1e-2, 7);
    tf.dispose([flat, heavy]);
    optimizer.dispose();
  });

  it('checkpoints restore the schedules: a restored optimizer runs the saved ones until the next measurement', async () => {
    const w = tf.variable(tf.zeros([SIZE, SIZE]), true, 'auto_saved');
    const first = recording((planner) => gramOrthogonalizer({ planner }));
    const optimizer = muon({ nsSteps: { kind: 'auto', every: 8 }, execution: { orthogonalize: first.orthogonalize } });
    // Steps 1 and 2 measure (heavy tail → 5 steps); step 3 does not.
    for (let step = 0; step < 2; step++) optimizer.applyGradients({ [w.name]: gradient(HEAVY_TAIL, 10 + step) });
    const saved = await optimizer.getWeights();
    const savedValues = saved.map(({ name, tensor }) => ({ name, tensor: tensor.clone() }));
    const savedWeights = w.clone();
    // Step 3 with a flat gradient: the momentum is still heavy-tailed, and nothing is measured.
    const gFlat = gradient(FLAT, 20);
    optimizer.applyGradients({ [w.name]: gFlat.clone() });
    const scheduleAtStep3 = first.calls.at(-1)?.schedule;
    expect(scheduleAtStep3?.steps).toBeGreaterThan(2); // not the flat gradient's 2
    const afterStep3 = w.clone();

    const second = recording((planner) => gramOrthogonalizer({ planner }));
    const restored = muon({ nsSteps: { kind: 'auto', every: 8 }, execution: { orthogonalize: second.orthogonalize } });
    await restored.setWeights(savedValues);
    w.assign(savedWeights);
    restored.applyGradients({ [w.name]: gFlat });
    expect(second.calls.map((c) => c.schedule)).toEqual([scheduleAtStep3]);
    expect(second.calls[0]?.schedule).toBe(scheduleAtStep3); // the shared, memoized object
    // The same state, the same gradient and the same schedule: the same step, bit for bit.
    expect(Array.from(w.dataSync())).toEqual(Array.from(afterStep3.dataSync()));
    tf.dispose([w, savedWeights, afterStep3, ...savedValues.map((v) => v.tensor)]);
    optimizer.dispose();
    restored.dispose();
  });

  it('re-measures at 1, 2, 4, … and then every nsAutoEvery steps', () => {
    const w = tf.variable(tf.zeros([SIZE, SIZE]), true, 'auto_every');
    const { calls, orthogonalize } = recording((planner) => gramOrthogonalizer({ planner }));
    const optimizer = muon({ nsSteps: { kind: 'auto', every: 6 }, momentum: 0, execution: { orthogonalize } });
    // momentum 0: the NS input is the gradient itself, flat at odd steps and heavy-tailed at even
    // ones, so the schedule says when a measurement happened.
    for (let step = 1; step <= 13; step++) optimizer.applyGradients({ [w.name]: gradient(step % 2 === 1 ? FLAT : HEAVY_TAIL, step) });
    // measured at 1 (flat), 2 (heavy), 4 (heavy), 6 (heavy), 12 (heavy): 5 steps from step 2 on.
    expect(calls.map((c) => c.schedule.steps)).toEqual([2, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5]);
    const alternate = recording((planner) => gramOrthogonalizer({ planner }));
    const other = muon({ nsSteps: { kind: 'auto', every: 6 }, momentum: 0, execution: { orthogonalize: alternate.orthogonalize } });
    // Heavy at odd steps, flat at even: measured flat at 2, 4, 6, 12 → 2 steps from step 2 on.
    for (let step = 1; step <= 13; step++) other.applyGradients({ [w.name]: gradient(step % 2 === 1 ? HEAVY_TAIL : FLAT, step) });
    expect(alternate.calls.map((c) => c.schedule.steps)).toEqual([5, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2]);
    w.dispose();
    optimizer.dispose();
    other.dispose();
  });

  it('reaches the Muon group of the hybrid and NorMuon, and refuses bad options with their names', () => {
    const hidden = tf.variable(tf.zeros([SIZE, SIZE]), true, 'auto_hybrid_kernel');
    const bias = tf.variable(tf.zeros([SIZE]), true, 'auto_hybrid_bias');
    const hybrid = muonWithAdamW([hidden, bias], { muon: { nsSteps: 'auto' } });
    hybrid.applyGradients({ [hidden.name]: gradient(HEAVY_TAIL, 1), [bias.name]: tf.ones([SIZE]) });
    expect(hybrid.getSlot(hidden.name, MUON_LOWER_BOUND_SLOT)?.dataSync()[0]).toBeCloseTo(1e-3, 7);
    expect(hybrid.getSlot(bias.name, MUON_LOWER_BOUND_SLOT)).toBeUndefined();
    const nor = normuon({ nsSteps: 'auto' });
    nor.applyGradients({ [hidden.name]: gradient(FLAT, 2) });
    expect(nor.getSlot(hidden.name, MUON_LOWER_BOUND_SLOT)?.dataSync()[0]).toBeCloseTo(0.1, 7);
    tf.dispose([hidden, bias]);
    hybrid.dispose();
    nor.dispose();

    expect(() => muon({ nsSteps: 'fast' as 'auto' })).toThrow(/nsSteps must be a positive integer, a piecewise schedule, 'auto' or \{ kind: 'auto', every\?, quantile\?, maxSteps\? \}, got "fast"/);
    // @ts-expect-error layer-aware nsSteps choose their own coefficients
    expect(() => muon({ nsSteps: 'auto', coefficients: 'polarExpress5' })).toThrow(/layer-aware nsSteps choose the coefficients per layer; leave coefficients out \(got "polarExpress5"\)/);
    expect(() => muon({ nsSteps: { kind: 'auto', every: 0 } })).toThrow(/nsSteps.every must be an integer ≥ 1 .* got 0/);
    expect(() => muon({ nsSteps: { kind: 'auto', maxSteps: 1 } })).toThrow(/nsSteps.maxSteps must be an integer in \[2, 8\], got 1/);
    expect(() => muon({ nsSteps: { kind: 'auto', quantile: 'q99' as 'q90' } })).toThrow(/nsSteps.quantile must be one of q10, q25, q50, q75, q90, got "q99"/);
  });

  it('refuses a checkpoint whose lower bound is off the grid, and leaves the state as it was', async () => {
    const w = tf.variable(tf.zeros([SIZE, SIZE]), true, 'auto_corrupt');
    const optimizer = muon({ nsSteps: { kind: 'auto', every: 100 } });
    optimizer.applyGradients({ [w.name]: gradient(FLAT, 1) });
    const saved = await optimizer.getWeights();
    // The lower bound off the grid, and iter = 2 so that the next step, 3, reads it (no measurement at 3).
    const corrupted = saved.map(({ name, tensor }) => ({
      name,
      tensor: name.endsWith(MUON_LOWER_BOUND_SLOT) ? tf.fill([SIZE], 0.3) : name === 'iter' ? tf.scalar(2, tensor.dtype) : tensor.clone(),
    }));
    const restored = muon({ nsSteps: { kind: 'auto', every: 100 } });
    await restored.setWeights(corrupted);
    const before = w.clone();
    expect(() => restored.applyGradients({ [w.name]: gradient(FLAT, 2) })).toThrow(/lower bound slot holds 0\.3.*neither 0 nor a grid point/);
    expect(Array.from(w.dataSync())).toEqual(Array.from(before.dataSync()));
    tf.dispose([w, before, ...corrupted.map((c) => c.tensor)]);
    optimizer.dispose();
    restored.dispose();
  });
});

describe("nsSteps: 'auto' on webgpu", () => {
  reportWebGpuSkipped(it);

  it.runIf(WEBGPU_MISSING === undefined)("measures through asynchronous reads: none synchronous, the floor's schedule until ℓ arrives, then cpu's ℓ, schedule and update", async () => {
    // momentum 0 and the same flat gradient at every step: the NS input is that gradient, whose q90
    // is ℓ = 0.1 (2 steps). cpu measures at step 1 and runs 2 steps from the start. webgpu runs the
    // floor's schedule (nsAutoMaxSteps 5 → ℓ = 5.6e-4, 5 steps) until the read arrives, then 2
    // steps. The steps wait 20 ms apart so that the read can arrive; how many steps that takes
    // depends on the machine, so the test checks the shape of the sequence, not its length.
    const floorSchedule = layerAwareSchedule(lowerBoundFloor(5, 1e-7), 1e-7);
    const flatSchedule = layerAwareSchedule(0.1, 1e-7);
    expect([floorSchedule.steps, flatSchedule.steps]).toEqual([5, 2]);
    const run = async (backend: 'cpu' | 'webgpu', maxSteps: number) => {
      await useBackend(backend);
      const g = gradient(FLAT, 31);
      const w = tf.variable(tf.zeros([SIZE, SIZE]), true, `auto_gpu_${backend}`);
      const { calls, orthogonalize } = recording((planner) => gramOrthogonalizer({ planner }));
      const optimizer = muon({ nsSteps: 'auto', momentum: 0, weightDecay: 0, execution: { orthogonalize } });
      let before = tf.zeros([SIZE, SIZE]);
      let lastUpdate = tf.zeros([SIZE, SIZE]);
      const step = async (): Promise<void> => {
        before.dispose();
        before = w.clone();
        optimizer.applyGradients({ [w.name]: g });
        lastUpdate.dispose();
        lastUpdate = tf.sub(w, before);
        if (backend === 'webgpu') await new Promise((resolve) => setTimeout(resolve, 20));
      };
      // Step 1 outside the count: the adapter probes the backend's float precision once per backend.
      await step();
      const reads = await countSyncReads(async () => {
        for (let k = 2; k <= maxSteps && calls.at(-1)?.schedule !== flatSchedule; k++) await step();
      });
      const slot = Array.from(await (optimizer.getSlot(w.name, MUON_LOWER_BOUND_SLOT) as tf.Tensor).data());
      const update = Array.from(await lastUpdate.data());
      tf.dispose([g, w, before, lastUpdate]);
      optimizer.dispose();
      return { reads, schedules: calls.map((c) => c.schedule), slot, update };
    };
    const cpu = await run('cpu', 1);
    const gpu = await run('webgpu', 200);
    expect(cpu.schedules).toEqual([flatSchedule]);
    expect(gpu.reads).toBe(0);
    expect(gpu.schedules.length).toBeGreaterThan(1);
    expect(gpu.schedules.slice(0, -1).every((s) => s === floorSchedule)).toBe(true);
    expect(gpu.schedules.at(-1)).toBe(flatSchedule);
    // The same grid point, stored in float32 on both backends.
    expect(gpu.slot).toEqual(cpu.slot);
    // The step that ran the flat schedule: the same update as cpu's (float32 Newton–Schulz of a
    // 32×32 matrix on SwiftShader against tfjs-backend-cpu: 1e-5 of lr·scale ≈ 0.02).
    cpu.update.forEach((expected, i) => expect(Math.abs((gpu.update[i] as number) - expected), `update[${i}]`).toBeLessThan(2e-7));
  });

  it.runIf(WEBGPU_MISSING === undefined)('a restored lower bound is read asynchronously: the floor until it arrives, then its schedule; an off-grid one fails a later step', async () => {
    // iter = 2 and the slot at ℓ = 0.1: step 3 measures nothing (nsAutoEvery 100), so it needs the
    // slot's ℓ, unknown to the new optimizer until its read arrives: the floor's schedule meanwhile.
    await useBackend('webgpu');
    const floorSchedule = layerAwareSchedule(lowerBoundFloor(5, 1e-7), 1e-7);
    const restoredState = (bound: number, w: tf.Variable) => [
      { name: 'iter', tensor: tf.scalar(2, 'int32') },
      { name: `${w.name}/momentum`, tensor: tf.zeros([SIZE, SIZE]) },
      { name: `${w.name}/${MUON_LOWER_BOUND_SLOT}`, tensor: tf.fill([SIZE], bound) },
    ];
    const w = tf.variable(tf.zeros([SIZE, SIZE]), true, 'auto_gpu_restored');
    const { calls, orthogonalize } = recording((planner) => gramOrthogonalizer({ planner }));
    const restored = muon({ nsSteps: { kind: 'auto', every: 100 }, momentum: 0, execution: { orthogonalize } });
    restored.checkFinite = false;
    // setWeights checks the checkpoint with a synchronous read (the adapter's): restore on cpu; the
    // tensors move to webgpu when the step first uses them.
    await useBackend('cpu');
    await restored.setWeights(restoredState(0.1, w));
    await useBackend('webgpu');
    const g = gradient(HEAVY_TAIL, 5);
    restored.applyGradients({ [w.name]: g });
    const reads = await countSyncReads(async () => {
      for (let k = 0; k < 200 && calls.at(-1)?.schedule === floorSchedule; k++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        restored.applyGradients({ [w.name]: g });
      }
    });
    expect(reads).toBe(0);
    expect(calls[0]?.schedule).toBe(floorSchedule);
    // The restored ℓ = 0.1 (2 steps), not the heavy-tailed gradient's own (5 steps): nothing was measured.
    expect(calls.at(-1)?.schedule).toBe(layerAwareSchedule(0.1, 1e-7));

    const corrupt = muon({ nsSteps: { kind: 'auto', every: 100 } });
    corrupt.checkFinite = false;
    await useBackend('cpu');
    await corrupt.setWeights(restoredState(0.3, w));
    await useBackend('webgpu');
    corrupt.applyGradients({ [w.name]: g });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(() => corrupt.applyGradients({ [w.name]: g })).toThrow(/variable 'auto_gpu_restored': the Newton–Schulz lower bound slot holds 0\.3/);
    tf.dispose([w, g]);
    restored.dispose();
    corrupt.dispose();
    await useBackend('cpu');
  });
});
