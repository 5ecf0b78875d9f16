import { describe, expect, it } from 'vitest';
import { makeBenchPlan } from '../benchmark/protocol/benchPlan.js';
import { benchHeader, estimateSeconds } from './benchHeader.js';

// MNIST's 54 steps per epoch, as the tasks report them.
const STEPS_PER_EPOCH = { mlp: 54, convnet: 54, transformer: 30 };
const KERNELS = "TF.js wasm (1 XNNPACK thread, SIMD); Muon's Newton–Schulz: native, oneDNN, 2 threads";

describe('the header bench prints before it starts', () => {
  it('--quick: Muon and AdamW on the MLP, 3 seeds, both tuned, a few minutes', () => {
    const plan = makeBenchPlan({ quick: true }, false);
    const estimate = estimateSeconds(plan, STEPS_PER_EPOCH);
    // 162 steps × (3 seeds × 2 optimizers + 6 runs × 3 searches × ¼) × 0.03 s: AdamW's lr, Muon's
    // lr and its AdamW half's factor.
    expect(estimate).toBeCloseTo(162 * (6 + 4.5) * 0.03, 9);
    expect(benchHeader(plan, { backend: 'wasm', simd: true, kernels: KERNELS, estimateSeconds: estimate })).toEqual([
      'muon-tfjs bench (quick): models mlp; optimizers muon, adamw; seeds 1, 2, 3.',
      `Backend wasm (SIMD); ${KERNELS}. muon, adamw first tune the peak lr (Sophia then ρ, a hybrid its AdamW half's rate) on a held-out split, runs of 0.25 of the budget, grids extended past an edge (at most 3 points).`,
      'Expected time: about 1 min on 2 idle cores.',
    ]);
  });

  it('--chosen-lr: says which rates are given, not searched, and leaves their searches out of the estimate', () => {
    const plan = makeBenchPlan({ quick: true }, false);
    const chosen = { adamw: 0.003 };
    const estimate = estimateSeconds(plan, STEPS_PER_EPOCH, chosen);
    expect(estimate).toBeCloseTo(162 * (6 + 3) * 0.03, 9); // Muon's two searches

    const [, tuning, time] = benchHeader(plan, { backend: 'wasm', simd: true, kernels: KERNELS, estimateSeconds: estimate, chosen });
    expect(tuning).toContain('. muon first tunes the peak lr');
    expect(tuning).toContain("Learning rates given by --chosen-lr, not searched: adamw 0.003 (adamw's is also what the hybrids' AdamW half is tuned as a factor of).");
    expect(time).toBe('Expected time: about 1 min on 2 idle cores (without the searches --chosen-lr skips).');
    const all = benchHeader(plan, { backend: 'wasm', simd: true, kernels: KERNELS, estimateSeconds: 60, chosen: { muon: 0.1, adamw: 0.01 } });
    expect(all[1]).toContain('No learning rate is searched.');
    // Sophia's ρ is still searched when its rate is given.
    const sophia = makeBenchPlan({ optimizers: 'sophia', models: 'mlp' }, false);
    expect(estimateSeconds(sophia, STEPS_PER_EPOCH, { sophia: 1e-3 })).toBeCloseTo(estimateSeconds(sophia, STEPS_PER_EPOCH) - 162 * 6 * 0.25 * 0.03, 9);
  });
});
