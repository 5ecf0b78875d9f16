import { describe, expect, it } from 'vitest';
import { makeBenchPlan } from './benchPlan.js';

describe('bench flags', () => {
  it('defaults to three models, four optimizers and one seed', () => {
    const p = makeBenchPlan({}, true);
    expect(p).toMatchObject({ mode: 'default', models: ['mlp', 'convnet', 'transformer'], optimizers: ['muon', 'adamw', 'sgd', 'lion'], seeds: [1] });
  });

  it('--full adds Fashion-MNIST only when it is installed, and 3 seeds', () => {
    expect(makeBenchPlan({ full: true }, true).models).toContain('fashion-mlp');
    expect(makeBenchPlan({ full: true }, false).models).not.toContain('fashion-mlp');
    expect(makeBenchPlan({ full: true }, false).seeds).toEqual([1, 2, 3]);
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
