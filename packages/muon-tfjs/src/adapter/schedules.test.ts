import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { cosine, linear, linearDecay, momentumWarmup, warmupStableDecay } from '../math/schedule.js';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { adamw, lion, muon } from './optimizers.js';
import { hybrid } from './HybridOptimizer.js';
import { MuonWithAdamWOptimizer, muonWithAdamW } from './MuonWithAdamWOptimizer.js';
import { saveInMemory } from '../testing/saveInMemory.js';

/** float32 holds ~7 significant digits; the hand values below are exact to 1e-12. */
const FP32 = 1e-6;

describe.each(TEST_BACKENDS)('learning-rate and momentum schedules, on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('a learning rate of 0 is valid and the step changes nothing; negative and NaN are refused', () => {
    const p = tf.variable(tf.tensor1d([1, -2]), true, `zero_lr_${backend}`);
    const optimizer = adamw({ learningRate: 0, weightDecay: 0.1 });
    optimizer.applyGradients({ [p.name]: tf.tensor1d([0.5, -1]) });
    expect(Array.from(p.dataSync())).toEqual([1, -2]);
    expect(optimizer.iterations).toBe(1);
    for (const bad of [-1e-3, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => adamw({ learningRate: bad })).toThrow(/AdamWOptimizer: learningRate must be a finite number ≥ 0/);
      expect(() => lion({ learningRate: bad })).toThrow(/LionOptimizer: learningRate must be a finite number ≥ 0/);
      expect(() => muon({ learningRate: bad })).toThrow(/MuonOptimizer: learningRate must be a finite number ≥ 0/);
      expect(() => {
        optimizer.learningRate = bad;
      }).toThrow(/learningRate must be a finite number ≥ 0/);
    }
    expect(optimizer.learningRate).toBe(0); // a refused assignment leaves the rate as it was
    optimizer.learningRate = 0;
    optimizer.dispose();
  });

  it('the optimizer reads its schedule at its own step index (AdamW, linear decay to 0 over 2 steps)', () => {
    // p = 1, g = 0.5 on every step, wd 0. A constant gradient gives Adam's direction u = m̂/(√v̂ + ε)
    // = 1 (to 2e-8) on every step, so each step moves p by exactly −lr:
    //   step 1 (t = 0): lr = 0.1 → p = 0.9;  step 2 (t = 1): lr = 0.05 → p = 0.85;  step 3: lr = 0 → 0.85.
    const p = tf.variable(tf.tensor1d([1]), true, `scheduled_adamw_${backend}`);
    const optimizer = adamw({ learningRate: linearDecay({ peak: 0.1, steps: 2 }), weightDecay: 0 });
    const seen: number[] = [];
    for (const expected of [0.9, 0.85, 0.85]) {
      seen.push(optimizer.learningRate);
      optimizer.applyGradients({ [p.name]: tf.tensor1d([0.5]) });
      expect(Math.abs((p.dataSync()[0] as number) - expected)).toBeLessThan(FP32);
    }
    expect(seen).toEqual([0.1, 0.05, 0]);
    // Assigning a number replaces the schedule (the hand-written schedule of a custom loop).
    optimizer.learningRate = 0.01;
    expect(optimizer.learningRateSchedule).toBe(0.01);
    optimizer.dispose();
  });

  it("Muon's momentum follows its schedule: β = 0 on step 1, 0.5 on step 2", () => {
    // linear from 0 to 0.5 over 1 step: β(t = 0) = 0, β(t ≥ 1) = 0.5. With g₁ = 1 and g₂ = 2 everywhere:
    //   m₁ = 0·0 + 1·g₁ = 1;  m₂ = 0.5·m₁ + 0.5·g₂ = 0.5 + 1 = 1.5.
    const p = tf.variable(tf.zeros([2, 3]), true, `scheduled_momentum_${backend}`);
    const optimizer = muon({ momentum: linear({ from: 0, to: 0.5, steps: 1 }) });
    optimizer.applyGradients({ [p.name]: tf.fill([2, 3], 1) });
    expect(Array.from((optimizer.getSlot(p.name, 'momentum') as tf.Variable).dataSync())).toEqual(new Array(6).fill(1));
    optimizer.applyGradients({ [p.name]: tf.fill([2, 3], 2) });
    expect(Array.from((optimizer.getSlot(p.name, 'momentum') as tf.Variable).dataSync())).toEqual(new Array(6).fill(1.5));
    optimizer.dispose();
  });

  it('each group of a hybrid has its own schedule, reported by describeRouting and settable live', () => {
    const kernel = tf.variable(tf.zeros([3, 3]), true, `hybrid_schedule_kernel_${backend}`);
    const bias = tf.variable(tf.zeros([3]), true, `hybrid_schedule_bias_${backend}`);
    const optimizer = hybrid([kernel, bias], {
      groups: {
        muon: { optimizer: 'muon', options: { learningRate: linearDecay({ peak: 0.02, steps: 4 }) } },
        adamw: { optimizer: 'adamw', options: { learningRate: cosine({ peak: 1e-3, steps: 4, warmupSteps: 1 }) } },
      },
    });
    const rate = (label: 'muon' | 'adamw') => optimizer.describeRouting().find((r) => r.label === label)?.effectiveLearningRate;
    expect([rate('muon'), rate('adamw')]).toEqual([0.02, 1e-3]);
    optimizer.applyGradients({ [kernel.name]: tf.ones([3, 3]), [bias.name]: tf.ones([3]) });
    optimizer.applyGradients({ [kernel.name]: tf.ones([3, 3]), [bias.name]: tf.ones([3]) });
    // t = 2: Muon 0.02·(1 − 2/4) = 0.01; AdamW ½·1e-3·(1 + cos(π·(2 − 1)/3)) = 0.75e-3
    expect(optimizer.learningRateOf('muon')).toBeCloseTo(0.01, 12);
    expect(optimizer.learningRateOf('adamw')).toBeCloseTo(0.75e-3, 12);
    optimizer.setLearningRate('adamw', 0);
    expect(optimizer.learningRateOf('adamw')).toBe(0);
    expect(() => optimizer.setLearningRate('muon', -1)).toThrow(/learningRate of group 'muon' must be a finite number ≥ 0, got -1/);
    expect(() => optimizer.setLearningRate('muon', { kind: 'decay' } as never)).toThrow(/learningRate of group 'muon' \(a 'decay' schedule\): shape must be 'linear' or 'cosine'/);
    optimizer.dispose();
  });

  it('getConfig saves the schedule, not its current value, and fromConfig restores it', () => {
    const original = muon({ learningRate: cosine({ peak: 0.05, steps: 100, warmupSteps: 10 }), momentum: momentumWarmup() });
    const [constructor, fromConfig] = tf.serialization.SerializationMap.getMap().classNameMap[original.getClassName()] ?? [];
    const copy = fromConfig?.(constructor as never, { ...original.getConfig(), customObjects: {} }) as typeof original;
    expect(copy.getConfig()).toEqual(original.getConfig());
    expect(copy.learningRateSchedule).toEqual(cosine({ peak: 0.05, steps: 100, warmupSteps: 10 }));
  });

  it('schedules are saved with the model (includeOptimizer) and a reloaded model resumes bit-identically', async () => {
    const xs = tf.randomNormal([64, 8], 0, 1, 'float32', 31);
    const ys = tf.cast(tf.oneHot(tf.argMax(tf.matMul(xs, tf.randomNormal([8, 3], 0, 1, 'float32', 32)), 1), 3), 'float32');
    const model = tfl.sequential({
      layers: [
        tfl.layers.dense({ inputShape: [8], units: 12, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 33 }), name: 'hidden' }),
        tfl.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: 34 }), name: 'head' }),
      ],
    });
    const muonRate = warmupStableDecay({ peak: 0.02, steps: 8, warmupSteps: 2, decaySteps: 4 });
    const adamwRate = cosine({ peak: 3e-3, steps: 8 });
    model.compile({ optimizer: muonWithAdamW(model, { muon: { learningRate: muonRate, momentum: momentumWarmup({ steps: 6 }) }, adamw: { learningRate: adamwRate } }), loss: 'categoricalCrossentropy' });
    const fitOptions = { epochs: 2, batchSize: 32, shuffle: false, verbose: 0 as const }; // 2 steps an epoch
    await model.fit(xs, ys, fitOptions);
    const artifacts = await saveInMemory(model, { includeOptimizer: true });
    await model.fit(xs, ys, fitOptions);
    const expected = model.getWeights().map((w) => Array.from(w.dataSync()));
    // Saved state binds to the reloaded (renamed) variables, here once the original model is gone (while it lives too: inProcessReload.test.ts).
    model.dispose();
    const reloaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
    const optimizer = reloaded.optimizer as MuonWithAdamWOptimizer;
    expect(optimizer.iterations).toBe(4);
    expect(optimizer.learningRateScheduleOf('muon')).toEqual(muonRate);
    expect(optimizer.learningRateScheduleOf('adamw')).toEqual(adamwRate);
    expect(optimizer.muonOptions.momentum).toEqual(momentumWarmup({ steps: 6 }));
    await reloaded.fit(xs, ys, fitOptions);
    expect(reloaded.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(expected);
  });
});
