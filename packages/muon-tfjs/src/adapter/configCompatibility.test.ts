import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { OptimizerKind } from '../optimizers/optimizerKind.js';
import { OPTIMIZER_KINDS } from '../optimizers/optimizerKinds.js';
import { useBackend } from '../testing/backends.js';
import { MUON_LOWER_BOUND_SLOT, MUON_MOMENTUM_SLOT } from '../transforms/scaleByMuon.js';
import { HybridOptimizer } from './HybridOptimizer.js';
import { optimizerClass } from './KindOptimizer.js';
import { MuonWithAdamWOptimizer } from './MuonWithAdamWOptimizer.js';

// Checkpoints written before the options were reshaped (main at d04c0cf: `nsSteps: 'auto'` beside
// flat `nsAutoEvery`, `nsAutoQuantile`, `nsAutoMaxSteps`, saved by every Muon config) still load:
// the fixture holds what that commit's getConfig() and model.save() wrote, produced by its code.

interface Fixture {
  readonly configs: Readonly<Record<string, tf.serialization.ConfigDict>>;
  readonly savedModel: { modelTopology: object; trainingConfig: tf.io.TrainingConfig; weightSpecs: tf.io.WeightsManifestEntry[]; weightData: string };
}
const FIXTURE = JSON.parse(readFileSync(new URL('./fixtures/configs-d04c0cf.json', import.meta.url), 'utf8')) as Fixture;
const saved = (name: string): tf.serialization.ConfigDict => FIXTURE.configs[name] as tf.serialization.ConfigDict;

/** The class a saved config names, rebuilt as tfjs-layers rebuilds it (registered class, then fromConfig). */
function rebuild(className: string, config: tf.serialization.ConfigDict): tf.serialization.Serializable {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[className];
  if (entry === undefined) throw new Error(`${className} is not registered`);
  const [cls, fromConfig] = entry;
  return fromConfig(cls, { ...config, customObjects: {} });
}

/** A config of the old form without the flat layer-aware names, which meant nothing under a fixed nsSteps. */
function withoutFlatAutoNames(config: tf.serialization.ConfigDict): tf.serialization.ConfigDict {
  const { nsAutoEvery: _every, nsAutoQuantile: _quantile, nsAutoMaxSteps: _maxSteps, ...rest } = config;
  return rest;
}

/** Options added since d04c0cf, which a config of then lacks and loads with at their defaults: matrixViews ([], only 2-D matrices and conv kernels seen as before) and momentumDtype ('float32', the state's format then). */
const ADDED_SINCE: Readonly<Record<string, tf.serialization.ConfigDict>> = { MuonOptimizer: { matrixViews: [], momentumDtype: 'float32' }, NorMuonOptimizer: { matrixViews: [], momentumDtype: 'float32' } };

describe('configs saved by main at d04c0cf load unchanged in meaning', () => {
  beforeAll(() => useBackend('cpu'));

  it.each(['MuonOptimizer', 'NorMuonOptimizer', 'AdamWOptimizer', 'LionOptimizer', 'SophiaOptimizer'])('%s: every option as saved (fixed nsSteps: the flat layer-aware names dropped)', (className) => {
    const copy = rebuild(className, saved(className));
    expect(copy.getClassName()).toBe(className);
    expect(copy.getConfig()).toEqual({ ...withoutFlatAutoNames(saved(className)), ...ADDED_SINCE[className] });
  });

  it("Muon under nsSteps 'auto': the flat settings become nsSteps: { kind: 'auto', every, quantile, maxSteps }", () => {
    const old = saved('MuonOptimizerAuto');
    expect(old).toMatchObject({ nsSteps: 'auto', nsAutoEvery: 50, nsAutoQuantile: 'q75', nsAutoMaxSteps: 4, coefficients: 'jordan', precision: 'float32' });
    const copy = rebuild('MuonOptimizer', old);
    const { coefficients: _coefficients, precision: _precision, ...rest } = withoutFlatAutoNames(old);
    expect(copy.getConfig()).toEqual({ ...rest, ...ADDED_SINCE['MuonOptimizer'], nsSteps: { kind: 'auto', every: 50, quantile: 'q75', maxSteps: 4 } });
    expect(copy.getConfig()['blockColumns']).toEqual([{ name: 'qkv', blocks: 3 }]);
  });

  it("a hybrid's NorMuon group under nsSteps 'auto', and its routes", () => {
    const copy = rebuild('HybridOptimizer', saved('HybridOptimizer')) as HybridOptimizer;
    expect(copy.groupOptions('muon')['nsSteps']).toEqual({ kind: 'auto', every: 20, quantile: 'q90', maxSteps: 5 });
    expect(copy.groupOptions('muon')).toMatchObject({ beta2: 0.95, epsilon: 1e-10 });
    expect(copy.routeOf('fixture/hidden', [4, 3])).toBe('muon');
  });

  it('a model saved with its MuonWithAdamW optimizer loads, options and state, and trains on', async () => {
    const { savedModel } = FIXTURE;
    const weightData = new Uint8Array(Buffer.from(savedModel.weightData, 'base64')).buffer;
    const model = await tfl.loadLayersModel(tf.io.fromMemory({ ...savedModel, weightData }));
    const optimizer = model.optimizer as MuonWithAdamWOptimizer;
    expect(optimizer).toBeInstanceOf(MuonWithAdamWOptimizer);
    expect(optimizer.muonOptions.nsSteps).toEqual({ kind: 'auto', every: 7, quantile: 'q90', maxSteps: 5 });
    expect(optimizer.adamwOptions).toMatchObject({ learningRate: 0.01, beta2: 0.95 });
    expect(optimizer.iterations).toBe(1);
    // The layer-aware state saved with it (momentum and the measured lower bound) is there to bind.
    const restored = await optimizer.getWeights();
    expect(restored.map(({ name }) => name)).toEqual(expect.arrayContaining([`fx_hidden/kernel/${MUON_MOMENTUM_SLOT}`, `fx_hidden/kernel/${MUON_LOWER_BOUND_SLOT}`]));
    restored[0]?.tensor.dispose();
    await model.fit(tf.ones([4, 3]), tf.ones([4, 2]), { epochs: 1, verbose: 0 });
    expect(optimizer.iterations).toBe(2);
    expect(optimizer.getSlot('fx_hidden/kernel', MUON_LOWER_BOUND_SLOT)).toBeDefined();
  });

  it('every kind reads the config it writes itself', () => {
    for (const kind of Object.values<OptimizerKind>(OPTIMIZER_KINDS)) {
      const original = new (optimizerClass(kind))();
      expect(kind.optionsFromConfig(original.getConfig())).toEqual(original.getConfig());
    }
  });
});
