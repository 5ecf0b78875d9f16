import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNativeAddon } from '../kernels/nativeAddon.js';
import { MUON_BFLOAT16_MOMENTUM_SLOT, MUON_MOMENTUM_SLOT } from '../transforms/scaleByMuon.js';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { referenceBfloat16 } from '../testing/bfloat16Reference.js';
import { saveInMemory } from '../testing/saveInMemory.js';
import { countSyncReads } from '../testing/syncReadCounter.js';
import { checkpointByPosition, hostValues, stepBoth } from '../testing/twinSteps.js';
import { WEBGPU_MISSING, reportWebGpuSkipped } from '../testing/webgpuBackend.js';
import { hybrid } from './HybridOptimizer.js';
import { MuonWithAdamWOptimizer, muonWithAdamW } from './MuonWithAdamWOptimizer.js';
import { NonFiniteStepError } from './nonFiniteStepError.js';
import { MuonOptimizer, muon, normuon } from './optimizers.js';
import type { TransformOptimizer } from './TransformOptimizer.js';

// Muon's `momentumDtype: 'bfloat16'` (issue 24, item 5): the momentum stored as bfloat16, packed
// two per int32 in the slot `momentumBfloat16`. Checked against a JavaScript reference of the EMA
// rounded to bfloat16 after every step (src/testing/bfloat16Reference.ts rounds by float64
// distance), fused against composed bit for bit, and the refusals.

const native = loadNativeAddon();
const BETA = 0.9;
const SHAPES = [
  [6, 5],
  [3, 3, 2, 3],
] as const;

let counter = 0;
function variables(shapes: readonly (readonly number[])[] = SHAPES): tf.Variable[] {
  counter += 1;
  return shapes.map((shape, i) => tf.variable(tf.randomNormal([...shape], 0, 0.1, 'float32', 3 + i), true, `bf16m${counter}_${i}${shape.length > 2 ? '/conv' : ''}`));
}
const CONV_VIEWS = [{ name: '/conv', convKernel: true }] as const;
// Seeds from 1: TF.js takes a seed of 0 as none (a different draw each call).
const gradient = (v: tf.Variable, step: number, i: number): tf.Tensor => tf.randomNormal(v.shape, 0, 1, 'float32', 1 + 100 * step + i);

/** The momentum a variable holds, unpacked on the host from the optimizer's packed slot. */
function storedMomentum(optimizer: TransformOptimizer, v: tf.Variable): number[] {
  const slot = optimizer.getSlot(v.name, MUON_BFLOAT16_MOMENTUM_SLOT);
  if (slot === undefined) throw new Error(`no packed momentum for ${v.name}`);
  const words = new Uint32Array(slot.dataSync<'int32'>().slice().buffer);
  const bits = Uint32Array.from({ length: v.size }, (_, i) => (i % 2 === 0 ? (words[i >> 1] as number) << 16 : (words[i >> 1] as number) & 0xffff0000) >>> 0);
  return Array.from(new Float32Array(bits.buffer));
}

describe.each(TEST_BACKENDS)('Muon with momentumDtype bfloat16 on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it.each([
    ['composed', false, {}],
    ['fused', true, {}],
    // Column blocks split every slot: the packed slot is unpacked outside the split, so the blocks see float32.
    ['composed with column blocks, no Nesterov', false, { nesterov: false, blockColumns: [{ name: 'bf16m', blocks: 3 }] }],
  ] as const)('%s: after 5 steps the stored momentum is the EMA rounded to bfloat16 after every step (float32 arithmetic, as TF.js)', (_label, fused, extra) => {
    if (fused && !native.available) return;
    const vs = variables([[6, 6], [3, 3, 2, 3]]);
    const optimizer = muon({ momentum: BETA, momentumDtype: 'bfloat16', matrixViews: CONV_VIEWS, execution: { fused }, ...extra });
    // m ← fl(fl(m·fl(β)) + fl(g·fl(1−β))), then rounded to bfloat16; fl: float32 rounding (Math.fround).
    const reference = vs.map((v) => new Array<number>(v.size).fill(0));
    const [b, c] = [Math.fround(BETA), Math.fround(1 - BETA)];
    for (let step = 0; step < 5; step++) {
      const grads = vs.map((v, i) => gradient(v, step, i));
      grads.forEach((g, i) => {
        const gs = hostValues(g);
        reference[i] = (reference[i] as number[]).map((m, k) => referenceBfloat16(Math.fround(Math.fround(m * b) + Math.fround((gs[k] as number) * c))));
      });
      optimizer.applyGradients(vs.map((v, i) => ({ name: v.name, tensor: grads[i] as tf.Tensor })));
      tf.dispose(grads);
    }
    expect(optimizer.describeExecution()[0]?.lastStep).toBe(fused ? 'fused' : 'composed');
    vs.forEach((v, i) => expect(storedMomentum(optimizer, v)).toEqual(reference[i]));
    expect(optimizer.getSlot(vs[0]?.name as string, MUON_MOMENTUM_SLOT)).toBeUndefined();
    optimizer.dispose();
    tf.dispose(vs);
  });

  it.runIf(native.available)('fused and composed steps are bit-identical: weights and packed state, over 6 steps with Nesterov and decay', async () => {
    const [va, vb] = [variables(), variables()];
    const options = { momentumDtype: 'bfloat16', weightDecay: 0.1, matrixViews: CONV_VIEWS } as const;
    const fused = muon(options);
    const composed = muon({ ...options, execution: { fused: false } });
    stepBoth(6, fused, va, composed, vb, gradient);
    expect(fused.describeExecution()[0]).toMatchObject({ strategy: 'fused', lastStep: 'fused' });
    expect(composed.describeExecution()[0]).toMatchObject({ strategy: 'composed', lastStep: 'composed' });
    expect(va.map(hostValues)).toEqual(vb.map(hostValues));
    expect(await checkpointByPosition(fused, va)).toEqual(await checkpointByPosition(composed, vb));
    tf.dispose([...va, ...vb]);
    fused.dispose();
    composed.dispose();
  });

  it('the slot is int32 of ceil(size/2) words: half the bytes of the float32 slot (an odd size rounds up)', () => {
    const [v32, v16] = [variables([[5, 3]]), variables([[5, 3]])];
    const f32 = muon();
    const b16 = muon({ momentumDtype: 'bfloat16' });
    stepBoth(1, f32, v32, b16, v16, gradient);
    const full = f32.getSlot(v32[0]?.name as string, MUON_MOMENTUM_SLOT) as tf.Variable;
    const packed = b16.getSlot(v16[0]?.name as string, MUON_BFLOAT16_MOMENTUM_SLOT) as tf.Variable;
    expect([full.dtype, full.shape]).toEqual(['float32', [5, 3]]);
    expect([packed.dtype, packed.shape]).toEqual(['int32', [8]]);
    expect(packed.size * 4).toBe(32); // 15 values: 60 bytes in float32, 32 packed
    f32.dispose();
    b16.dispose();
    tf.dispose([...v32, ...v16]);
  });

  it('a checkpoint round trip resumes exactly, and a checkpoint of the other format is refused naming the variable, the slots and both formats', async () => {
    const [va, vb] = [variables(), variables()];
    const options = { momentumDtype: 'bfloat16', matrixViews: CONV_VIEWS } as const;
    const straight = muon(options);
    const first = muon(options);
    stepBoth(3, straight, va, first, vb, gradient);
    const saved = await first.getWeights();
    const resumed = muon(options);
    await resumed.setWeights(saved.map(({ name, tensor }) => ({ name, tensor: tf.clone(tensor) })));
    first.dispose();
    stepBoth(2, straight, va, resumed, vb, gradient);
    expect(va.map(hostValues)).toEqual(vb.map(hostValues));
    expect(await checkpointByPosition(resumed, vb)).toEqual(await checkpointByPosition(straight, va));

    // bfloat16 checkpoint into a float32 optimizer: its int32 slot is refused when restored.
    const float32 = muon({ matrixViews: CONV_VIEWS });
    const packedWeights = await resumed.getWeights();
    await expect(float32.setWeights(packedWeights)).rejects.toThrow(
      `MuonOptimizer.setWeights: '${vb[0]?.name}/momentumBfloat16' is int32; this optimizer keeps float32 state (was the checkpoint saved with other options, such as momentumDtype?)`,
    );
    // float32 checkpoint into a bfloat16 optimizer: refused at the first step, nothing written.
    const [vc] = [variables()];
    const plain = muon({ matrixViews: CONV_VIEWS });
    plain.applyGradients(vc.map((v, i) => ({ name: v.name, tensor: gradient(v, 0, i) })));
    const before = vc.map(hostValues);
    const b16 = muon(options);
    await b16.setWeights(await plain.getWeights());
    expect(() => b16.applyGradients(vc.map((v, i) => ({ name: v.name, tensor: gradient(v, 1, i) })))).toThrow(
      new RegExp(`'${vc[0]?.name}'.* has a 'momentum' slot \\(float32 \\[6, 5\\]\\), which MuonOptimizer does not keep for it: it keeps 'momentumBfloat16' \\(bfloat16, two per int32 \\[15\\]\\)`),
    );
    expect(vc.map(hostValues)).toEqual(before);
    expect(b16.iterations).toBe(1);
    [straight, resumed, float32, plain, b16].forEach((o) => o.dispose());
    tf.dispose([...va, ...vb, ...vc]);
  });

  it.each([
    ['composed', false],
    ['fused', true],
  ] as const)('%s: a finite momentum that rounds to Inf in bfloat16 is refused; nothing is written', (_path, fused) => {
    if (fused && !native.available) return;
    const [v] = variables([[4, 4]]);
    const optimizer = muon({ momentum: 0, momentumDtype: 'bfloat16', execution: { fused } });
    optimizer.applyGradients({ [(v as tf.Variable).name]: tf.ones([4, 4]) });
    const before = hostValues(v as tf.Variable);
    const state = storedMomentum(optimizer, v as tf.Variable);
    // 3.4e38 is finite in float32 and above the largest bfloat16 (3.3895e38) by more than half an ulp: +Inf.
    const huge = tf.fill([4, 4], 3.4e38);
    let error: unknown;
    try {
      optimizer.applyGradients({ [(v as tf.Variable).name]: huge });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(NonFiniteStepError);
    expect((error as Error).message).toContain(`${(v as tf.Variable).name}/momentumBfloat16`);
    expect(hostValues(v as tf.Variable)).toEqual(before);
    expect(storedMomentum(optimizer, v as tf.Variable)).toEqual(state);
    expect(optimizer.iterations).toBe(1);
    optimizer.dispose();
    tf.dispose([v as tf.Variable, huge]);
  });

  it.each([
    ['composed', false],
    ['fused', true],
  ] as const)('%s under finiteGuard device: the same overflow is refused on the device, reported by whenChecked, and rolled back', async (_path, fused) => {
    if (fused && !native.available) return;
    const [v] = variables([[4, 4]]) as [tf.Variable];
    const optimizer = muon({ momentum: 0, momentumDtype: 'bfloat16', execution: { fused } });
    optimizer.finiteGuard = 'device';
    optimizer.applyGradients({ [v.name]: tf.ones([4, 4]) });
    const before = hostValues(v);
    const state = storedMomentum(optimizer, v);
    const huge = tf.fill([4, 4], 3.4e38);
    optimizer.applyGradients({ [v.name]: huge });
    await expect(optimizer.whenChecked()).rejects.toThrow(`${v.name}/momentumBfloat16`);
    expect(hostValues(v)).toEqual(before);
    expect(storedMomentum(optimizer, v)).toEqual(state);
    expect(optimizer.iterations).toBe(1);
    optimizer.dispose();
    tf.dispose([v, huge]);
  });

  it('leaks no tensor from the second step on (composed and fused)', () => {
    for (const fused of native.available ? [false, true] : [false]) {
      const vs = variables();
      const optimizer = muon({ momentumDtype: 'bfloat16', matrixViews: CONV_VIEWS, execution: { fused } });
      const step = (k: number) => {
        const grads = vs.map((v, i) => gradient(v, k, i));
        optimizer.applyGradients(vs.map((v, i) => ({ name: v.name, tensor: grads[i] as tf.Tensor })));
        tf.dispose(grads);
      };
      step(0);
      const before = tf.memory().numTensors;
      step(1);
      step(2);
      expect(tf.memory().numTensors).toBe(before);
      optimizer.dispose();
      tf.dispose(vs);
    }
  });

  it('a tfjs-layers model saved with includeOptimizer reloads its packed momentum and continues bit-identically; an empty matrix steps too', async () => {
    const init = (seed: number) => tfl.initializers.glorotUniform({ seed });
    const model = tfl.sequential({
      layers: [
        tfl.layers.dense({ inputShape: [6], units: 9, activation: 'relu', kernelInitializer: init(1), name: 'hidden' }),
        tfl.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: init(2), name: 'head' }),
      ],
    });
    const xs = tf.randomNormal([32, 6], 0, 1, 'float32', 9);
    const ys = tf.oneHot(tf.tensor1d(Array.from({ length: 32 }, (_, i) => i % 3), 'int32'), 3);
    const fit = { epochs: 1, batchSize: 8, shuffle: false, verbose: 0 as const };
    model.compile({ optimizer: muonWithAdamW(model, { muon: { momentumDtype: 'bfloat16' } }), loss: 'categoricalCrossentropy' });
    await model.fit(xs, ys, fit);
    const artifacts = await saveInMemory(model, { includeOptimizer: true });
    await model.fit(xs, ys, fit);
    const expected = model.getWeights().map(hostValues);
    model.dispose();
    const reloaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
    const optimizer = reloaded.optimizer as MuonWithAdamWOptimizer;
    expect(optimizer.muonOptions.momentumDtype).toBe('bfloat16');
    await reloaded.fit(xs, ys, fit);
    expect(reloaded.getWeights().map(hostValues)).toEqual(expected);
    const hidden = reloaded.getLayer('hidden').getWeights()[0] as tf.Variable;
    expect(optimizer.getSlot(hidden.name, MUON_BFLOAT16_MOMENTUM_SLOT)?.dtype).toBe('int32');
    reloaded.dispose();

    for (const fused of [false, true]) {
      const [empty] = variables([[0, 4]]) as [tf.Variable];
      const alone = muon({ momentumDtype: 'bfloat16', execution: { fused } });
      alone.applyGradients({ [empty.name]: tf.zeros([0, 4]) });
      expect(alone.getSlot(empty.name, MUON_BFLOAT16_MOMENTUM_SLOT)?.shape).toEqual([0]);
      alone.dispose();
      empty.dispose();
    }
    tf.dispose([xs, ys]);
  });

  it('muonWithAdamW, hybrid() groups and NorMuon take it: the matrices keep packed momentum, vectors their AdamW state', () => {
    const [kernel, bias] = variables([[4, 3], [3]]) as [tf.Variable, tf.Variable];
    const preset = muonWithAdamW([kernel, bias], { muon: { momentumDtype: 'bfloat16' } });
    const groups = hybrid([kernel, bias], { groups: { muon: { optimizer: 'muon', options: { momentumDtype: 'bfloat16' } }, adamw: { optimizer: 'adamw' } } });
    const nor = hybrid([kernel, bias], { groups: { muon: { optimizer: 'normuon', options: { momentumDtype: 'bfloat16' } }, adamw: { optimizer: 'adamw' } } });
    for (const optimizer of [preset, groups, nor]) {
      optimizer.applyGradients({ [kernel.name]: tf.onesLike(kernel), [bias.name]: tf.onesLike(bias) });
      expect(optimizer.getSlot(kernel.name, MUON_BFLOAT16_MOMENTUM_SLOT)?.shape).toEqual([6]);
      expect(optimizer.getSlot(kernel.name, MUON_MOMENTUM_SLOT)).toBeUndefined();
      expect(optimizer.getSlot(bias.name, 'm')?.dtype).toBe('float32');
      optimizer.dispose();
    }
    tf.dispose([kernel, bias]);
  });
});

describe('momentumDtype: configuration and refusals', () => {
  beforeAll(() => useBackend('cpu'));

  it('is saved in the config; a config without it (saved before it existed) loads as float32', () => {
    const optimizer = muon({ momentumDtype: 'bfloat16' });
    expect(optimizer.getConfig()['momentumDtype']).toBe('bfloat16');
    const { momentumDtype: _dtype, ...old } = muon().getConfig();
    const loaded = MuonOptimizer.fromConfig(MuonOptimizer, old) as MuonOptimizer;
    expect(loaded.options.momentumDtype).toBe('float32');
    expect(normuon({ momentumDtype: 'bfloat16' }).getConfig()['momentumDtype']).toBe('bfloat16');
  });

  it('refuses an unknown dtype by name', () => {
    // @ts-expect-error float16 is not a momentum dtype
    expect(() => muon({ momentumDtype: 'float16' })).toThrow("MuonOptimizer: unknown momentumDtype \"float16\"; expected one of float32, bfloat16");
    expect(() => new MuonWithAdamWOptimizer({ muon: { momentumDtype: 'half' as 'bfloat16' } })).toThrow(/unknown momentumDtype "half"/);
  });
});

/**
 * A backend named webgl that is tfjs's cpu backend: Node cannot run WebGL, and the refusal is
 * decided by the backend's name before any kernel of it runs (see backendFloats.test.ts).
 */
describe('on webgl', () => {
  beforeAll(async () => {
    tf.registerBackend('webgl', () => new MathBackendCPU());
    for (const kernel of tf.getKernelsForBackend('cpu')) tf.registerKernel({ ...kernel, backendName: 'webgl' });
    await tf.setBackend('webgl');
    await tf.ready();
  });
  afterAll(async () => {
    await useBackend('cpu');
    for (const kernel of tf.getKernelsForBackend('webgl')) tf.unregisterKernel(kernel.kernelName, 'webgl');
    tf.removeBackend('webgl');
  });

  it('refuses the first step naming the option, the backend and the reason, and changes nothing', () => {
    const [v] = variables([[4, 4]]) as [tf.Variable];
    const optimizer = muon({ momentumDtype: 'bfloat16' });
    const before = hostValues(v);
    expect(() => optimizer.applyGradients({ [v.name]: tf.ones([4, 4]) })).toThrow(
      "muon: momentumDtype 'bfloat16': packBfloat16: cannot run on the webgl backend: webgl keeps int32 tensors in float32 texels, which cannot hold the 32 raw bits of two packed bfloat16 values exactly",
    );
    expect(hostValues(v)).toEqual(before);
    expect(optimizer.iterations).toBe(0);
    expect(optimizer.variableNames).toEqual([]);
    optimizer.dispose();
    v.dispose();
  });
});

reportWebGpuSkipped(it);

/** The packed words of a variable's momentum and its weights, read asynchronously (webgpu in Node has no synchronous read). */
async function packedAndWeights(optimizer: TransformOptimizer, vs: readonly tf.Variable[]): Promise<{ words: number[][]; weights: Float32Array[] }> {
  const slots = vs.map((v) => optimizer.getSlot(v.name, MUON_BFLOAT16_MOMENTUM_SLOT) as tf.Tensor);
  return { words: await Promise.all(slots.map(async (t) => Array.from(await t.data()))), weights: await Promise.all(vs.map(async (v) => (await v.data()) as Float32Array)) };
}

/**
 * Muon with bfloat16 momentum on webgpu, packed and unpacked by the WGSL codec the adapter supplies
 * (src/kernels/webgpuBfloat16Codec.ts, checked bit for bit against the host codec in its own test).
 */
describe.runIf(WEBGPU_MISSING === undefined)('on webgpu (Dawn in Node)', () => {
  beforeAll(() => useBackend('webgpu'));
  afterAll(() => useBackend('cpu'));

  /** `steps` seeded steps of `options` from the same seeded weights; the optimizer, its variables and the sync reads of steps 3..N. */
  async function run(steps: number, options: Parameters<typeof muon>[0]): Promise<{ optimizer: TransformOptimizer; vs: tf.Variable[]; syncReads: number }> {
    const vs = variables([[6, 6], [3, 3, 2, 3]]);
    const optimizer = muon(options);
    const step = (k: number) => {
      // Seeds from 1: TF.js takes seed 0 as no seed, so `gradient(v, 0, 0)` differs from run to run.
      const grads = vs.map((v, i) => gradient(v, k + 1, i));
      optimizer.applyGradients(vs.map((v, i) => ({ name: v.name, tensor: grads[i] as tf.Tensor })));
      tf.dispose(grads);
    };
    step(0);
    step(1);
    const syncReads = await countSyncReads(() => {
      for (let k = 2; k < steps; k++) step(k);
    });
    await optimizer.whenChecked();
    return { optimizer, vs, syncReads };
  }

  it('Muon steps with no synchronous read in steps 3..6: the packed momentum equals cpu’s word for word, the weights agree to 1e-5', async () => {
    const options = { momentum: BETA, momentumDtype: 'bfloat16', weightDecay: 0.1, matrixViews: CONV_VIEWS } as const;
    const onGpu = await run(6, options);
    expect(onGpu.syncReads).toBe(0);
    expect(onGpu.optimizer.describeExecution()[0]?.lastStep).toBe('composed');
    const gpu = await packedAndWeights(onGpu.optimizer, onGpu.vs);
    expect(onGpu.optimizer.getSlot(onGpu.vs[0]?.name as string, MUON_BFLOAT16_MOMENTUM_SLOT)?.shape).toEqual([18]);
    await useBackend('cpu');
    const onCpu = await run(6, { ...options, execution: { fused: false } });
    const cpu = await packedAndWeights(onCpu.optimizer, onCpu.vs);
    await useBackend('webgpu');
    // The momentum is the EMA of the same gradients (elementwise float32 ops, exact on both) rounded by
    // the same formula: bit for bit. The weights go through Newton–Schulz, whose products sum in
    // another order on the GPU (1.3e-6 to 2.3e-6 relative per call, webgpuOrthogonalizer.test.ts):
    // 6 steps of lr·s·O add at most a few 1e-6 of the weights' scale; 1e-5 bounds it.
    expect(gpu.words).toEqual(cpu.words);
    gpu.weights.forEach((w, k) => {
      const ref = cpu.weights[k] as Float32Array;
      const scale = Math.max(...Array.from(ref, Math.abs));
      w.forEach((x, i) => expect(Math.abs(x - (ref[i] as number)) / scale, `weight ${k} entry ${i}`).toBeLessThan(1e-5));
    });
    [onGpu.optimizer, onCpu.optimizer].forEach((o) => o.dispose());
    tf.dispose([...onGpu.vs, ...onCpu.vs]);
  });

  it('leaks no tensor from the second step on', async () => {
    const vs = variables();
    const optimizer = muon({ momentumDtype: 'bfloat16', matrixViews: CONV_VIEWS });
    const step = async (k: number) => {
      const grads = vs.map((v, i) => gradient(v, k, i));
      optimizer.applyGradients(vs.map((v, i) => ({ name: v.name, tensor: grads[i] as tf.Tensor })));
      tf.dispose(grads);
      await optimizer.whenChecked();
    };
    await step(0);
    const before = tf.memory().numTensors;
    await step(1);
    await step(2);
    expect(tf.memory().numTensors).toBe(before);
    optimizer.dispose();
    tf.dispose(vs);
  });

  it('under the device guard (the default here), a finite momentum that rounds to Inf is refused on the device, reported by whenChecked, and rolled back', async () => {
    const [v] = variables([[4, 4]]) as [tf.Variable];
    const optimizer = muon({ momentum: 0, momentumDtype: 'bfloat16' });
    optimizer.applyGradients({ [v.name]: tf.ones([4, 4]) });
    await optimizer.whenChecked();
    const before = await packedAndWeights(optimizer, [v]);
    // 3.4e38: finite in float32, above the largest bfloat16 (3.3895e38) by more than half an ulp: +Inf.
    const huge = tf.fill([4, 4], 3.4e38);
    optimizer.applyGradients({ [v.name]: huge });
    await expect(optimizer.whenChecked()).rejects.toThrow(`${v.name}/momentumBfloat16`);
    expect(await packedAndWeights(optimizer, [v])).toEqual(before);
    expect(optimizer.iterations).toBe(1);
    optimizer.dispose();
    tf.dispose([v, huge]);
  });
});
