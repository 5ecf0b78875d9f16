import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type * as tfl from '@tensorflow/tfjs-layers';
import { DION2_DEFAULTS, type HybridOptimizer, type Route } from 'muon-tfjs';
import { buildConvNet, buildTransformer } from 'muon-tfjs-tasks';
import { beforeAll, describe, expect, it } from 'vitest';
import { createOptimizer, FLOAT32_CPU, type PlaygroundOptimizer } from './createOptimizer.js';
import { createPlaygroundTask } from './playgroundTask.js';
import { DEFAULT_STATE, type PlaygroundState } from './playgroundState.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** The hybrid of `muon` or `dion2` (their type says so; the test checks it too). */
function hybridOf(built: PlaygroundOptimizer): HybridOptimizer<Route> {
  expect('describeRouting' in built.optimizer).toBe(true);
  return built.optimizer as HybridOptimizer<Route>;
}

/** Each routed variable, by its original name (`hidden1/kernel`, without a later model's suffix) → `label (optimizer)` of its group. */
function routing(optimizer: HybridOptimizer<Route>, model: tfl.LayersModel): Record<string, string> {
  const originalNames = new Map(model.trainableWeights.map((w) => [(w.read() as tf.Variable).name, w.originalName]));
  return Object.fromEntries(optimizer.describeRouting().map((row) => [originalNames.get(row.variable) ?? row.variable, `${row.label} (${row.optimizer})`]));
}

// The playground's kinds of weights: dense kernels and biases (the toy MLP), conv kernels (the
// ConvNet), and the transformer's embeddings, attention, layer-norm gains and head.
const MODELS: Record<string, () => tfl.LayersModel> = {
  'toy MLP': () => createPlaygroundTask(DEFAULT_STATE, {}).task.buildModel(),
  ConvNet: () => buildConvNet({ height: 28, width: 28, channels: 1, filters: [8, 16], dense: 32, classes: 10 }),
  transformer: () => buildTransformer({ vocabSize: 12, sequenceLength: 8, width: 16, heads: 2, layers: 1, mlpWidth: 32 }),
};

describe('createOptimizer', () => {
  it.each(Object.keys(MODELS))('routes the %s for dion2 as for muon: Dion2 where muonWithAdamW puts Muon, AdamW elsewhere', (name) => {
    const model = (MODELS[name] as () => tfl.LayersModel)();
    const muon = routing(hybridOf(createOptimizer('muon', DEFAULT_STATE, model, FLOAT32_CPU)), model);
    const dion2 = routing(hybridOf(createOptimizer('dion2', DEFAULT_STATE, model, FLOAT32_CPU)), model);
    expect(Object.keys(dion2).sort()).toEqual(model.trainableWeights.map((w) => w.originalName).sort());
    expect(dion2).toEqual(Object.fromEntries(Object.entries(muon).map(([variable, group]) => [variable, group.replace('muon (muon)', 'muon (dion2)')])));
    // Both groups hold something: the hidden kernels, and the head and biases.
    expect(Object.values(dion2)).toContain('muon (dion2)');
    expect(Object.values(dion2)).toContain('adamw (adamw)');
    model.dispose();
  });

  it('puts the toy MLP\'s hidden kernels in the Dion2 group and its head and biases in AdamW\'s', () => {
    const model = MODELS['toy MLP']?.() as tfl.LayersModel;
    const routes = Object.entries(routing(hybridOf(createOptimizer('dion2', DEFAULT_STATE, model, FLOAT32_CPU)), model));
    const names = (group: string): string[] => routes.filter(([, g]) => g === group).map(([variable]) => variable).sort();
    expect(names('muon (dion2)')).toEqual(['hidden1/kernel', 'hidden2/kernel']);
    expect(names('adamw (adamw)')).toEqual(['head/bias', 'head/kernel', 'hidden1/bias', 'hidden2/bias']);
    model.dispose();
  });

  it('builds Dion2 at its library defaults but the page\'s lr, beside the same AdamW group as Muon\'s', () => {
    const model = MODELS['toy MLP']?.() as tfl.LayersModel;
    const muon = hybridOf(createOptimizer('muon', DEFAULT_STATE, model, FLOAT32_CPU));
    const dion2 = hybridOf(createOptimizer('dion2', DEFAULT_STATE, model, FLOAT32_CPU));
    expect(dion2.labels).toEqual(['muon', 'adamw']);
    expect(dion2.groupOptions('muon')).toMatchObject({ ...DION2_DEFAULTS, learningRate: DEFAULT_STATE.settings.dion2.lr });
    // Muon's weight decay, which the page fixes for both hybrids.
    expect(dion2.groupOptions('muon')['weightDecay']).toBe(muon.groupOptions('muon')['weightDecay']);
    expect(dion2.groupOptions('adamw')).toEqual(muon.groupOptions('adamw'));
    model.dispose();
  });

  it('sets the Dion2 group\'s rate from dion2\'s settings and the AdamW group\'s from AdamW\'s, each on its schedule', () => {
    const model = MODELS['toy MLP']?.() as tfl.LayersModel;
    const state: PlaygroundState = {
      ...DEFAULT_STATE,
      steps: 100,
      settings: { ...DEFAULT_STATE.settings, dion2: { lr: 0.04, schedule: 'cosine' }, adamw: { lr: 0.02, schedule: 'linear' } },
    };
    const built = createOptimizer('dion2', state, model, FLOAT32_CPU);
    built.setStep(state, 25);
    const optimizer = hybridOf(built);
    // Step 25 of 100: cosine ½(1 + cos π/4) ≈ 0.8536, linear 1 − 0.25.
    expect(optimizer.learningRateOf('muon')).toBeCloseTo(0.04 * 0.5 * (1 + Math.cos(Math.PI / 4)), 12);
    expect(optimizer.learningRateOf('adamw')).toBeCloseTo(0.02 * 0.75, 12);
    model.dispose();
  });

  it('raises Dion2\'s eps and AdamW\'s ε to 1e-4 on a backend of 16-bit floats, and keeps them at 32 bits', () => {
    const model = MODELS['toy MLP']?.() as tfl.LayersModel;
    const at16 = hybridOf(createOptimizer('dion2', DEFAULT_STATE, model, { floatPrecision: 16 }));
    expect(at16.groupOptions('muon')['eps']).toBe(1e-4);
    expect(at16.groupOptions('adamw')['epsilon']).toBe(1e-4);
    const at32 = hybridOf(createOptimizer('dion2', DEFAULT_STATE, model, FLOAT32_CPU));
    expect(at32.groupOptions('muon')['eps']).toBe(DION2_DEFAULTS.eps);
    expect(at32.groupOptions('adamw')['epsilon']).toBe(1e-8);
    model.dispose();
  });
});
