import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { type GroupSpec, OPTIMIZER_KINDS, createGroup } from '../optimizers/optimizerKinds.js';
import { MUON_LOWER_BOUND_SLOT } from '../transforms/scaleByMuon.js';
import { NEURON_SECOND_MOMENT_SLOT } from '../transforms/scaleByNeuronRms.js';
import { useBackend } from '../testing/backends.js';
import { OPTIMIZER_TEST_BACKENDS, reportWebGpuSkipped } from '../testing/webgpuBackend.js';
import { ADAPTER_SERVICES } from './adapterServices.js';
import { HybridOptimizer } from './HybridOptimizer.js';
import { muonWithAdamW } from './MuonWithAdamWOptimizer.js';
import type { TransformOptimizer } from './TransformOptimizer.js';

// The invariant of issue 16, over generated shapes, options, gradient and checkpoint corruptions:
// a step (or a restore) either succeeds, leaving every weight and every state value finite, or
// throws an error that names the variable or the option at fault, and then weights, state,
// iteration count and the number of live tensors are exactly as before. On webgpu (a slice: fewer
// runs on the software adapter) the step is guarded on the device, so a refusal is read from
// `whenChecked()` after a step that returned normally; the invariant is the same.

// Every registered optimizer kind takes part, so a new kind meets the invariants without a line
// here: each runs as the one group of a hybrid (the transformation its own class runs, through the
// same adapter), and the muonWithAdamW preset runs two kinds side by side.
const KINDS = [...Object.keys(OPTIMIZER_KINDS), 'muonWithAdamW'];
/** The slots declared non-negative: Adam's and NorMuon's second moments, Sophia's h, Muon's σ_min bound. */
const NON_NEGATIVE_SLOTS = ['v', NEURON_SECOND_MOMENT_SLOT, 'hessian', MUON_LOWER_BOUND_SLOT];
type Kind = (typeof KINDS)[number];
type Corruption = 'none' | 'nan' | 'inf' | 'huge' | 'wrongShape' | 'int32' | 'unknownName' | 'disposed' | 'missing';
type CheckpointCorruption = 'nan' | 'negative' | 'iterNegative' | 'duplicate' | 'wrongShape' | 'dropSlot';

const shapeArb = fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 4 });
const optionsArb = fc.record(
  {
    learningRate: fc.oneof(fc.double({ min: 1e-4, max: 0.5, noNaN: true }), fc.constantFrom(-1, Number.NaN, Number.POSITIVE_INFINITY)),
    weightDecay: fc.oneof(fc.double({ min: 0, max: 0.2, noNaN: true }), fc.constant(-0.1)),
  },
  { requiredKeys: [] },
);

// A generated variable of rank ≥ 3 is a batch of matrices over its last two axes (experts), so the
// matrix kinds (those whose groups describe a matrix) see every shape through a matrixViews rule.
// On webgpu it is a conv kernel, flattened as before matrixViews: each matrix of a batched view is
// a parameter of its own to the momentum and scale ops (splitMatrices), so a [5, 5, 5, 5] weight
// costs 25 times the dispatches, which the software adapter does not run within the timeout.
const matrixViewsOn = (backend: string) =>
  ['prop', 'ckpt'].map((name) => (backend === 'webgpu' ? { name, convKernel: true as const } : { name, reductionAxes: [-2], outputAxes: [-1] }));
const takesMatrixViews = (kind: string): boolean =>
  createGroup({ optimizer: kind } as GroupSpec, kind, ADAPTER_SERVICES).describe({ name: 'm', shape: [2, 2], convKernel: false }).matrix !== undefined;

let counter = 0;
function build(kind: Kind, options: Record<string, number>, variables: tf.Variable[], backend: string): TransformOptimizer {
  const matrixViews = matrixViewsOn(backend);
  if (kind === 'muonWithAdamW') return muonWithAdamW(variables, { muon: { ...options, matrixViews }, adamw: options });
  const groupOptions = takesMatrixViews(kind) ? { ...options, matrixViews } : options;
  return new HybridOptimizer({ groups: { [kind]: { optimizer: kind, options: groupOptions } as GroupSpec }, label: () => kind });
}

/** Positive estimates of every step input the optimizer reads (Sophia's Hessian diagonal), one per variable. */
function provideStepInputs(optimizer: TransformOptimizer, variables: readonly tf.Variable[]): void {
  for (const kind of optimizer.stepInputKinds) {
    const estimates = Object.fromEntries(variables.map((v) => [v.name, tf.randomUniform(v.shape, 0, 2, 'float32', ++counter)]));
    optimizer.provideStepInputs(kind, estimates);
    tf.dispose(Object.values(estimates));
  }
}

interface Snapshot {
  readonly weights: number[][];
  readonly state: [string, number[]][];
  readonly iterations: number;
  readonly tensors: number;
}

async function snapshot(optimizer: TransformOptimizer, variables: readonly tf.Variable[]): Promise<Snapshot> {
  const weights = await optimizer.getWeights();
  const state = await Promise.all(weights.map(async ({ name, tensor }) => [name, Array.from(await tensor.data())] as [string, number[]]));
  (weights[0] as { tensor: tf.Tensor }).tensor.dispose();
  return { weights: await Promise.all(variables.map(async (v) => Array.from(await v.data()))), state, iterations: optimizer.iterations, tensors: tf.memory().numTensors };
}

/** Runs a step, returning its refusal whether the step threw it (host guard) or `whenChecked()` did (device guard). */
async function stepRefusal(optimizer: TransformOptimizer, step: () => void): Promise<unknown> {
  try {
    step();
    await optimizer.whenChecked();
    return undefined;
  } catch (error) {
    return error;
  }
}

const allFinite = (rows: readonly (readonly [string, number[]])[]) => rows.every(([, v]) => v.every(Number.isFinite));

reportWebGpuSkipped(it);

describe.each(OPTIMIZER_TEST_BACKENDS)('all-or-nothing over generated inputs on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('runs every registered optimizer kind', () => {
    expect(KINDS).toEqual(expect.arrayContaining(['muon', 'adamw', 'lion', 'normuon', 'sophia']));
    expect(KINDS).toEqual(expect.arrayContaining(Object.keys(OPTIMIZER_KINDS)));
  });

  it('a step succeeds with finite weights and state, or names the culprit and changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...KINDS),
        fc.array(shapeArb, { minLength: 1, maxLength: 3 }),
        optionsArb,
        fc.constantFrom<Corruption>('none', 'nan', 'inf', 'huge', 'wrongShape', 'int32', 'unknownName', 'disposed', 'missing'),
        fc.nat(),
        fc.boolean(),
        fc.boolean(),
        async (kind, shapes, options, corruption, pick, warmUp, withInputs) => {
          const variables = shapes.map((shape) => tf.variable(tf.randomNormal(shape, 0, 1, 'float32', ++counter), true, `prop${counter}`));
          try {
            let optimizer: TransformOptimizer;
            try {
              optimizer = build(kind, options, variables, backend);
            } catch (error) {
              // Refused at construction: the message names the option.
              expect(String(error)).toMatch(/learningRate|weightDecay|Muon needs rank ≥ 2/);
              return;
            }
            const grads: Record<string, tf.Tensor> = Object.fromEntries(variables.map((v) => [v.name, tf.randomNormal(v.shape, 0, 1, 'float32', ++counter)]));
            if (warmUp) {
              const refusal = await stepRefusal(optimizer, () => optimizer.applyGradients(grads));
              if (refusal !== undefined) {
                // A Muon or NorMuon group refuses a vector, naming it.
                expect(String(refusal)).toMatch(/prop\d+/);
                return;
              }
            }
            const target = variables[pick % variables.length] as tf.Variable;
            const g = grads[target.name] as tf.Tensor;
            const size = g.size;
            switch (corruption) {
              case 'nan':
              case 'inf':
              case 'huge': {
                const data = Array.from(await g.data());
                data[pick % size] = corruption === 'nan' ? Number.NaN : corruption === 'inf' ? Number.NEGATIVE_INFINITY : 1e20;
                grads[target.name] = tf.tensor(data, g.shape);
                break;
              }
              case 'wrongShape':
                grads[target.name] = tf.zeros([...g.shape, 2]);
                break;
              case 'int32':
                grads[target.name] = tf.zeros(g.shape, 'int32');
                break;
              case 'unknownName':
                grads[`nowhere${++counter}`] = tf.zeros([2]);
                break;
              case 'disposed':
                grads[target.name] = tf.zeros(g.shape);
                (grads[target.name] as tf.Tensor).dispose();
                break;
              case 'missing':
                // model.fit hands null for a variable without a gradient (a frozen layer).
                grads[target.name] = null as unknown as tf.Tensor;
                break;
              case 'none':
                break;
            }
            if (withInputs) provideStepInputs(optimizer, variables);
            const before = await snapshot(optimizer, variables);
            const failure = await stepRefusal(optimizer, () => optimizer.applyGradients(grads));
            const after = await snapshot(optimizer, variables);
            if (failure === undefined) {
              expect(allFinite(after.state)).toBe(true);
              expect(after.weights.every((w) => w.every(Number.isFinite))).toBe(true);
            } else {
              expect(String(failure)).toMatch(/'(prop|nowhere)\d+/);
              expect(after).toEqual(before);
            }
            optimizer.dispose();
            tf.dispose(Object.values(grads).filter((t) => t !== null && !t.isDisposed));
          } finally {
            variables.forEach((v) => v.dispose());
          }
        },
      ),
      { numRuns: backend === 'webgpu' ? 30 : 150, seed: 16 },
    );
  });

  it('a checkpoint is restored whole or refused with nothing changed', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...KINDS),
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 2, maxLength: 3 }),
        fc.constantFrom<CheckpointCorruption>('nan', 'negative', 'iterNegative', 'duplicate', 'wrongShape', 'dropSlot'),
        fc.nat(),
        async (kind, shape, corruption, pick) => {
          const w = tf.variable(tf.randomNormal(shape, 0, 1, 'float32', ++counter), true, `ckpt${counter}`);
          const trained = build(kind, {}, [w], backend);
          const fresh = build(kind, {}, [w], backend);
          try {
            trained.applyGradients({ [w.name]: tf.randomNormal(shape, 0, 1, 'float32', ++counter) });
            const checkpoint = (await trained.getWeights()).map(({ name, tensor }) => ({ name, tensor: tensor.clone() }));
            const slots = checkpoint.slice(1);
            const victim = slots[pick % slots.length] as (typeof checkpoint)[number];
            let corrupted = checkpoint;
            const replace = (tensor: tf.Tensor) => checkpoint.map((e) => (e === victim ? { name: e.name, tensor } : e));
            switch (corruption) {
              case 'nan':
                corrupted = replace(tf.fill(victim.tensor.shape, Number.NaN));
                break;
              case 'negative':
                corrupted = replace(tf.fill(victim.tensor.shape, -1));
                break;
              case 'iterNegative':
                corrupted = checkpoint.map((e, i) => (i === 0 ? { name: 'iter', tensor: tf.scalar(-3, 'int32') } : e));
                break;
              case 'duplicate':
                corrupted = [...checkpoint, victim];
                break;
              case 'wrongShape':
                corrupted = replace(tf.zeros([...victim.tensor.shape, 2]));
                break;
              case 'dropSlot':
                corrupted = checkpoint.filter((e) => e !== victim);
                break;
            }
            const before = await snapshot(fresh, [w]);
            let failure: unknown;
            try {
              await fresh.setWeights(corrupted);
              // Restored: the next step binds the state, or refuses it naming the variable.
              fresh.applyGradients({ [w.name]: tf.onesLike(w) });
              await fresh.whenChecked();
            } catch (error) {
              failure = error;
            }
            const after = await snapshot(fresh, [w]);
            if (failure === undefined) {
              expect(allFinite(after.state)).toBe(true);
              // Negative values are accepted only in a slot no transformation declares non-negative.
              if (corruption === 'negative') expect(NON_NEGATIVE_SLOTS).not.toContain(victim.name.split('/').pop());
            } else {
              expect(String(failure)).toMatch(/ckpt\d+|'iter'/);
              // A refused restore changes nothing; a refused first step after a restore keeps the
              // restored checkpoint and leaves the weights as they were.
              expect(after.weights).toEqual(before.weights);
            }
          } finally {
            trained.dispose();
            fresh.dispose();
            w.dispose();
          }
        },
      ),
      { numRuns: backend === 'webgpu' ? 20 : 80, seed: 61 },
    );
  });
});
