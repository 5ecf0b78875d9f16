import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../testing/backends.js';
import { AdamWOptimizer, Dion2Optimizer, LionOptimizer, MuonOptimizer, NorMuonOptimizer, SophiaOptimizer, adamw, dion2, lion, muon, normuon, sophia } from './optimizers.js';
import { MuonWithAdamWOptimizer } from './MuonWithAdamWOptimizer.js';
import type { TransformOptimizer } from './TransformOptimizer.js';
import { OPTIMIZER_KINDS } from '../optimizers/optimizerKinds.js';
import type { OptimizerKind } from '../optimizers/optimizerKind.js';
import { optimizerClass } from './KindOptimizer.js';

/** Rebuilds an optimizer the way tfjs-layers does: by registered class name, then fromConfig. */
function rebuild(optimizer: TransformOptimizer): TransformOptimizer {
  const cls = tf.serialization.SerializationMap.getMap().classNameMap[optimizer.getClassName()];
  if (cls === undefined) {
    throw new Error(`${optimizer.getClassName()} is not registered`);
  }
  const [constructor, fromConfig] = cls;
  // tfjs-layers passes customObjects along with the config; it must be ignored.
  return fromConfig(constructor, { ...optimizer.getConfig(), customObjects: {} }) as TransformOptimizer;
}

describe('getConfig / fromConfig round-trip every option', () => {
  beforeAll(() => useBackend('cpu'));

  // Every kind of the registry, named in this file or not, has a registered class that round-trips.
  it.each(Object.values<OptimizerKind>(OPTIMIZER_KINDS).map((kind) => [kind.className, kind] as const))('%s, registered from its kind, at its defaults', (className, kind) => {
    const cls = optimizerClass(kind);
    const original = new cls();
    expect(original.getClassName()).toBe(className);
    const copy = rebuild(original);
    expect(copy).toBeInstanceOf(cls);
    expect(copy.getConfig()).toEqual(original.getConfig());
    expect(JSON.parse(JSON.stringify(original.getConfig()))).toEqual(original.getConfig());
  });

  it.each([
    ['Muon', () => muon({ learningRate: 0.03, momentum: 0.9, nesterov: false, coefficients: [[3, -3.2, 1.2], [2, -1.5, 0.5]], nsSteps: 3, weightDecay: 0.1, correctedWeightDecay: true, lrAdjust: 'matchAdamW', eps: 1e-6, precision: 'bfloat16', momentumDtype: 'bfloat16' }), MuonOptimizer],
    ['AdamW', () => adamw({ learningRate: 2e-3, beta1: 0.8, beta2: 0.95, epsilon: 1e-6, weightDecay: 0.05, cautiousWeightDecay: true, maxLearningRate: 4e-3 }), AdamWOptimizer],
    ['Lion', () => lion({ learningRate: 3e-5, beta1: 0.95, beta2: 0.98, weightDecay: 1 }), LionOptimizer],
    ['NorMuon', () => normuon({ learningRate: 0.03, momentum: 0.9, beta2: 0.9, epsilon: 1e-8, lrAdjust: 'matchAdamW', weightDecay: 0.1, precision: 'bfloat16', momentumDtype: 'bfloat16' }), NorMuonOptimizer],
    ['Dion2', () => dion2({ learningRate: 0.03, fraction: 0.5, errorFeedbackDecay: 0.9, coefficients: 'jordan', nsSteps: 4, eps: 1e-7, weightDecay: 0.1, cautiousWeightDecay: true, lrAdjust: 'original', precision: 'bfloat16', convOrthogonalization: 'perTap' }), Dion2Optimizer],
    ['Sophia', () => sophia({ learningRate: 1e-3, beta1: 0.9, beta2: 0.95, rho: 1, weightDecay: 0.1, epsilon: 1e-12 }), SophiaOptimizer],
  ] as const)('%s', (name, make, cls) => {
    const original = make();
    original.learningRate = original.learningRate / 2; // a scheduled rate is what gets saved
    const copy = rebuild(original);
    expect(copy).toBeInstanceOf(cls);
    expect(copy.getConfig()).toEqual(original.getConfig());
    // The precision is part of the config and of the schedule rebuilt from it.
    if (name === 'Muon' || name === 'NorMuon' || name === 'Dion2') {
      expect(original.getConfig()['precision']).toBe('bfloat16');
      expect((copy as MuonOptimizer | NorMuonOptimizer | Dion2Optimizer).options.schedule.precision).toBe('bfloat16');
    }
  });

  it('Muon with the turboMuon preset: the name is saved, and the AOL normalization comes back with it', () => {
    const original = muon({ coefficients: 'turboMuon' });
    const copy = rebuild(original) as MuonOptimizer;
    expect(original.getConfig()['coefficients']).toBe('turboMuon');
    expect(copy.getConfig()).toEqual(original.getConfig());
    expect(copy.options.schedule.normalization).toBe('aol');
    expect(copy.options.schedule.steps).toBe(4);
  });

  it('MuonWithAdamW, with its routing decisions', () => {
    const kernel = tf.variable(tf.zeros([4, 4]), true, 'serialization/kernel');
    const table = tf.variable(tf.zeros([10, 4]), true, 'serialization/table');
    const original = new MuonWithAdamWOptimizer({
      muon: { learningRate: 0.05, coefficients: 'you6', precision: 'bfloat16' },
      adamw: { weightDecay: 0.1 },
      overrides: [{ pattern: 'table', to: 'adamw' }],
      variables: [kernel, table].map((v) => ({ name: v.name, shape: v.shape })),
    });
    const copy = rebuild(original) as MuonWithAdamWOptimizer;
    expect(copy.getConfig()).toEqual(original.getConfig());
    expect(copy.muonOptions.schedule.precision).toBe('bfloat16');
    // The override is not part of the config, but its decision is.
    expect(copy.routeOf(table.name, table.shape)).toBe('adamw');
    expect(copy.routeOf(kernel.name, kernel.shape)).toBe('muon');
  });
});
