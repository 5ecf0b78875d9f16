import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { MuonStepKernel } from '../math/muonStepKernel.js';
import { newtonSchulzEach, type Orthogonalizer } from '../math/orthogonalizer.js';
import { fusedMuonStep } from '../optimizers/fusedMuon.js';
import { type MuonOptions, resolveMuonOptions } from '../optimizers/muon.js';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { SILENT_TAPS } from '../transforms/taps.js';
import { dion2, muon, normuon } from './optimizers.js';

// A kernel with a zero dimension ([0, 16], a conv kernel with no input channel) has nothing to
// orthogonalize: Muon steps it without handing it to any kernel (the native kernels refuse empty
// matrices), and its update is the empty tensor, on every path.

const EMPTY_SHAPES = [[0, 16], [16, 0], [3, 3, 0, 4]] as const;

let counter = 0;
const variable = (shape: readonly number[], seed = 1) => tf.variable(tf.randomNormal([...shape], 0, 1, 'float32', seed), true, `empty${++counter}`);

/** newtonSchulzEach that refuses an empty matrix, as the native kernels do, and records the shapes it saw. */
function refusingEmpty(seen: number[][]): Orthogonalizer {
  return (matrices, schedule) => {
    for (const m of matrices) {
      if (m.size === 0) throw new Error(`shapes [${m.shape.join(', ')}] must be positive`);
      seen.push(m.shape);
    }
    return newtonSchulzEach(matrices, schedule);
  };
}

describe.each(TEST_BACKENDS)('empty matrices on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it.each<[string, MuonOptions]>([
    ['Muon', {}],
    ["Muon, nsSteps 'auto'", { nsSteps: 'auto' }],
    ['Muon, per-tap conv kernels', { convOrthogonalization: 'perTap' }],
    ['Muon, column blocks', { blockColumns: [{ name: 'empty', blocks: 2 }] }],
  ])('%s steps them without a kernel call, and the other matrices as if alone', (_, options) => {
    const empties = EMPTY_SHAPES.map((shape) => variable(shape));
    const [full, twin] = [variable([6, 4], 2), variable([6, 4], 2)];
    const seen: number[][] = [];
    const optimizer = muon({ ...options, execution: { orthogonalize: refusingEmpty(seen) } });
    const alone = muon({ ...options, execution: { orthogonalize: newtonSchulzEach } });
    const grad = tf.randomNormal([6, 4], 0, 1, 'float32', 3);
    for (let step = 0; step < 2; step++) {
      optimizer.applyGradients({ ...Object.fromEntries(empties.map((v) => [v.name, tf.zeros(v.shape)])), [full.name]: grad });
      alone.applyGradients({ [twin.name]: grad });
    }
    expect(seen.every((shape) => shape.every((d) => d > 0))).toBe(true);
    expect(optimizer.iterations).toBe(2);
    empties.forEach((v, i) => expect(v.shape).toEqual(EMPTY_SHAPES[i]));
    expect(Array.from(full.dataSync())).toEqual(Array.from(twin.dataSync()));
  });

  it('NorMuon, Dion2 and the default kernel (the native one where it is built) step them too', () => {
    for (const optimizer of [muon(), normuon(), dion2(), muon({ execution: { fused: false } })]) {
      const empties = EMPTY_SHAPES.map((shape) => variable(shape));
      optimizer.applyGradients(Object.fromEntries(empties.map((v) => [v.name, tf.zeros(v.shape)])));
      expect(optimizer.iterations).toBe(1);
      expect(optimizer.variableNames).toEqual(empties.map((v) => v.name));
    }
  });

  it('the fused step hands its kernel the non-empty matrices only', () => {
    const handed: number[][] = [];
    const kernel: MuonStepKernel = {
      unavailable: () => undefined,
      step(variables) {
        return variables.map(({ param, momentum }) => {
          if (param.size === 0) throw new Error(`shapes [${param.shape.join(', ')}] must be positive`);
          handed.push(param.shape);
          return { param: tf.clone(param), momentum: tf.clone(momentum), gradientFinite: true, momentumFinite: true, paramFinite: true };
        });
      },
    };
    const step = fusedMuonStep(resolveMuonOptions(), () => 0.02, kernel);
    if (typeof step === 'string') throw new Error(step);
    const shapes = [[0, 16], [4, 3]];
    const tensors = (fill: number) => Object.fromEntries(shapes.map((shape, i) => [`v${i}`, tf.fill(shape, fill)]));
    const params = tensors(1);
    const result = step.step(tensors(0.5), Object.fromEntries(Object.entries(tensors(0)).map(([name, m]) => [name, { momentum: m }])), params, { step: 1, inputs: {}, taps: SILENT_TAPS });
    expect(handed).toEqual([[4, 3]]);
    expect(result.values['v0']?.shape).toEqual([0, 16]);
    expect(result.state['v0']?.['momentum']?.shape).toEqual([0, 16]);
    expect([result.nonFiniteGradients, result.nonFiniteValues]).toEqual([[], []]);
  });
});
