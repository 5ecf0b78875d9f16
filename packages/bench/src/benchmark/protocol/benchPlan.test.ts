import { describe, expect, it } from 'vitest';
import { makeBenchPlan } from './benchPlan.js';

describe('bench flags', () => {
  it('defaults to the Fashion-MNIST models when installed (else MNIST) and the transformer, all six optimizers, one seed', () => {
    expect(makeBenchPlan({}, true)).toMatchObject({
      mode: 'default', models: ['fashion-mlp', 'fashion-convnet', 'transformer'], optimizers: ['muon', 'adamw', 'sgd', 'lion', 'normuon', 'sophia'], seeds: [1],
      protocol: { tuneFraction: 0.25, maxExtensions: 3 },
    });
    expect(makeBenchPlan({}, false).models).toEqual(['mlp', 'convnet', 'transformer']);
  });

  it('--full: 3 seeds, tuning at half the budget', () => {
    expect(makeBenchPlan({ full: true }, true).models).toContain('fashion-mlp');
    expect(makeBenchPlan({ full: true }, false).models).not.toContain('fashion-mlp');
    expect(makeBenchPlan({ full: true }, false)).toMatchObject({ seeds: [1, 2, 3], protocol: { tuneFraction: 0.5 } });
  });

  it('--quick: Muon and AdamW on the MLP (Fashion-MNIST when installed), 3 seeds, the default budget and tuning; flags still win', () => {
    expect(makeBenchPlan({ quick: true }, true)).toMatchObject({
      mode: 'quick', models: ['fashion-mlp'], optimizers: ['muon', 'adamw'], seeds: [1, 2, 3], protocol: { tuneFraction: 0.25, maxExtensions: 3 },
    });
    expect(makeBenchPlan({ quick: true }, false)).toMatchObject({ models: ['mlp'], epochs: { mlp: 3 } });
    expect(makeBenchPlan({ quick: true, seeds: '5', models: 'transformer' }, false)).toMatchObject({ mode: 'quick', models: ['transformer'], seeds: [1, 2, 3, 4, 5] });
    expect(() => makeBenchPlan({ quick: true, full: true }, false)).toThrow('--full and --quick: choose one (--quick is minutes, --full hours)');
  });

  it('reads the protocol flags and names a bad value', () => {
    expect(makeBenchPlan({ tuneFraction: '1', maxExtensions: '0' }, false).protocol).toEqual({ tuneFraction: 1, maxExtensions: 0 });
    expect(() => makeBenchPlan({ tuneFraction: '0.2' }, false)).toThrow("--tune-fraction: expected a number in [0.25, 1], got '0.2'");
    expect(() => makeBenchPlan({ maxExtensions: '1.5' }, false)).toThrow("--max-extensions: expected an integer ≥ 0, got '1.5'");
  });

  it('parses lists, seeds and epochs, and names a bad value', () => {
    const p = makeBenchPlan({ models: 'mlp', optimizers: 'muon,adamw', seeds: '4,9', epochs: '2' }, false);
    expect(p.models).toEqual(['mlp']);
    expect(p.optimizers).toEqual(['muon', 'adamw']);
    expect(p.seeds).toEqual([4, 9]);
    expect(p.epochs.mlp).toBe(2);
    expect(makeBenchPlan({ seeds: '3' }, false).seeds).toEqual([1, 2, 3]);
    expect(() => makeBenchPlan({ models: 'mlp,resnet' }, false)).toThrow(/--models: unknown value 'resnet'/);
    expect(() => makeBenchPlan({ optimizers: 'adam' }, false)).toThrow(/--optimizers: unknown value 'adam'/);
    expect(() => makeBenchPlan({ epochs: '0' }, false)).toThrow(/--epochs: expected a positive integer/);
  });
});
