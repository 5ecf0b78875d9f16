import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../testing/backends.js';
import { HybridOptimizer } from './HybridOptimizer.js';
import { MuonWithAdamWOptimizer } from './MuonWithAdamWOptimizer.js';

let counter = 0;
function variable(shape: number[], name = 'v'): tf.Variable {
  counter += 1;
  return tf.variable(tf.randomNormal(shape, 0, 1, 'float32', counter), true, `hybrid${counter}/${name}`);
}

const describeOf = (...vars: tf.Variable[]) => vars.map((v) => ({ name: v.name, shape: v.shape }));

/** Rebuilds an optimizer the way tfjs-layers does: by registered class name, then fromConfig. */
function rebuild<T extends tf.Optimizer>(optimizer: T): T {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[optimizer.getClassName()];
  if (entry === undefined) throw new Error(`${optimizer.getClassName()} is not registered`);
  const [cls, fromConfig] = entry;
  return fromConfig(cls, { ...optimizer.getConfig(), customObjects: {} }) as T;
}

describe('HybridOptimizer: open labels, any optimizer per group', () => {
  beforeAll(() => useBackend('cpu'));

  it('routes by label function, overrides, then the default; describes each route', () => {
    const kernel = variable([4, 8], 'kernel');
    const table = variable([10, 4], 'table');
    const bias = variable([8], 'bias');
    const optimizer = new HybridOptimizer({
      groups: {
        muon: { optimizer: 'muon', options: { learningRate: 0.05 } },
        tables: { optimizer: 'lion', options: { learningRate: 1e-4 } },
        adamw: { optimizer: 'adamw' },
      },
      overrides: [{ pattern: /table/, to: 'tables' }],
      variables: describeOf(kernel, table, bias),
    });
    expect(optimizer.labels).toEqual(['muon', 'tables', 'adamw']);
    const rows = Object.fromEntries(optimizer.describeRouting().map((r) => [r.variable, r]));
    // [4, 8]: Muon's original shape scale √max(1, 8/4) = √2, shown to 4 significant digits.
    expect(rows[kernel.name]).toMatchObject({ label: 'muon', optimizer: 'muon', matrix: [4, 8], scale: 1.414, effectiveLearningRate: 0.07071, reason: 'hidden matrix' });
    expect(rows[table.name]).toMatchObject({ label: 'tables', optimizer: 'lion', scale: 1, effectiveLearningRate: 1e-4, reason: 'override /table/' });
    expect(rows[table.name]?.matrix).toBeUndefined();
    // AdamW's own defaults (torch's), not the muonWithAdamW preset's.
    expect(rows[bias.name]).toMatchObject({ label: 'adamw', optimizer: 'adamw', effectiveLearningRate: 1e-3 });
    optimizer.setLearningRate('tables', 2e-4);
    expect(optimizer.describeRouting().find((r) => r.variable === table.name)?.effectiveLearningRate).toBe(2e-4);
  });

  it('shows scale and step size rounded to 4 digits, while the step uses the exact scale √3.2', () => {
    // A [5, 16] kernel and its transpose, given transposed gradients: Newton–Schulz gives the same
    // singular values to both, so their updates' norms differ by the shape scales alone,
    // √max(1, 16/5) = √3.2 = 1.78885… against 1; the rounded 1.789 is 8e-5 off in relative terms.
    const wide = tf.variable(tf.zeros([5, 16]), true, `hybrid_rounding_${(counter += 1)}/wide`);
    const tall = tf.variable(tf.zeros([16, 5]), true, `hybrid_rounding_${counter}/tall`);
    const optimizer = new HybridOptimizer({ groups: { muon: { optimizer: 'muon', options: { learningRate: 0.02 } } }, variables: describeOf(wide, tall) });
    const rows = Object.fromEntries(optimizer.describeRouting().map((r) => [r.variable, r]));
    expect(rows[wide.name]).toMatchObject({ scale: 1.789, effectiveLearningRate: 0.03578 });
    expect(rows[tall.name]).toMatchObject({ scale: 1, effectiveLearningRate: 0.02 });
    const gradient = tf.randomNormal([5, 16], 0, 1, 'float32', 11);
    optimizer.applyGradients({ [wide.name]: gradient, [tall.name]: tf.transpose(gradient) });
    const norm = (v: tf.Variable): number => tf.norm(v).dataSync()[0] as number;
    // float32 norms of 80 entries: relative error ~1e-6, far below the 8e-5 that rounding would add.
    expect(norm(wide) / norm(tall)).toBeCloseTo(Math.sqrt(3.2), 5);
    optimizer.dispose();
  });

  it('trains each group with its own optimizer: a Lion group moves by exactly lr per entry', () => {
    const a = variable([3, 3], 'a');
    const b = variable([3], 'b');
    const before = Array.from(b.dataSync());
    const optimizer = new HybridOptimizer({
      groups: { muon: { optimizer: 'muon' }, signs: { optimizer: 'lion', options: { learningRate: 0.5 } } },
      label: (v) => (v.shape.length === 1 ? 'signs' : undefined),
    });
    optimizer.applyGradients({ [a.name]: tf.onesLike(a), [b.name]: tf.tensor1d([2, -3, 0.1]) });
    // Lion: p ← p − lr·sign(g) on the first step (m = 0).
    Array.from(b.dataSync()).forEach((x, i) => expect(x).toBeCloseTo((before[i] as number) - 0.5 * Math.sign([2, -3, 0.1][i] as number), 6));
    expect(optimizer.variableNames).toEqual([a.name, b.name]);
  });

  it('refuses an unknown label, naming the variable, the label and the groups', () => {
    const w = variable([4, 4]);
    const make = () =>
      new HybridOptimizer({ groups: { muon: { optimizer: 'muon' }, adamw: { optimizer: 'adamw' } }, label: () => 'matrices' as 'muon', variables: describeOf(w) });
    expect(make).toThrow(new RegExp(`'${w.name}' is routed to 'matrices' \\(label function\\), but there is no such group; the groups are 'muon', 'adamw'`));
    // A variable first seen in a step: the same error, and the step changes nothing.
    const late = new HybridOptimizer({ groups: { only: { optimizer: 'adamw' } }, label: (v) => (v.name.endsWith('odd') ? ('other' as 'only') : 'only') });
    const odd = variable([2], 'odd');
    const before = Array.from(odd.dataSync());
    expect(() => late.applyGradients({ [odd.name]: tf.onesLike(odd) })).toThrow(/routed to 'other' \(label function\), but there is no such group; the groups are 'only'/);
    expect(Array.from(odd.dataSync())).toEqual(before);
    expect(late.iterations).toBe(0);
  });

  it("says in the group's optimizer's words what it cannot take", () => {
    const gain = variable([16], 'gamma');
    expect(
      () => new HybridOptimizer({ groups: { everything: { optimizer: 'muon' } }, label: () => 'everything', variables: describeOf(gain) }),
    ).toThrow(new RegExp(`Routing sends '${gain.name}' of shape \\[16\\] to Muon \\(group 'everything', label function\\), but Muon needs rank ≥ 2`));
  });

  it('refuses bad groups and policies by name', () => {
    expect(() => new HybridOptimizer({ groups: {} })).toThrow(/groups must map at least one label/);
    expect(() => new HybridOptimizer({ groups: { x: { optimizer: 'sgd' as 'adamw' } } })).toThrow(/HybridOptimizer\.x: unknown optimizer 'sgd'; expected one of muon, adamw, lion/);
    expect(() => new HybridOptimizer({ groups: { x: { optimizer: 'adamw', options: { learnigRate: 1 } as object } } })).toThrow(/HybridOptimizer\.x: unknown option 'learnigRate'/);
    expect(() => new HybridOptimizer({ groups: { x: { optimizer: 'adamw' } }, overrides: 'all' as unknown as [] })).toThrow(/overrides must be an array of \{ pattern, to \}/);
    expect(() => new HybridOptimizer({ groups: { x: { optimizer: 'adamw' } }, overrides: [{ pattern: 3 as unknown as string, to: 'x' }] })).toThrow(/overrides\[0\]\.pattern must be a RegExp or a string, got 3/);
    expect(() => new HybridOptimizer({ groups: { x: { optimizer: 'adamw' } }, label: 'x' as unknown as () => 'x' })).toThrow(/label must be a function/);
    const optimizer = new HybridOptimizer({ groups: { x: { optimizer: 'adamw' } } });
    expect(() => {
      (optimizer as unknown as { learningRate: number }).learningRate = 0.1;
    }).toThrow(/one learning rate per group \(x\); use setLearningRate\(label, value\)/);
    expect(() => optimizer.setLearningRate('y' as 'x', 0.1)).toThrow(/no group labelled 'y'; the groups are 'x'/);
  });

  it('serializes three labels with their options, rates and routes; labels are kept verbatim', () => {
    const kernel = variable([4, 4], 'kernel');
    const table = variable([10, 4], 'embed_table');
    const bias = variable([4], 'bias');
    const original = new HybridOptimizer({
      groups: {
        hidden_matrices: { optimizer: 'muon', options: { coefficients: 'polarExpress5', weightDecay: 0.1 } },
        embedding_table: { optimizer: 'lion', options: { beta2: 0.98 } },
        'everything-else': { optimizer: 'adamw', options: { epsilon: 1e-6 } },
      },
      label: (v) => (v.name.includes('embed') ? 'embedding_table' : v.shape.length === 2 ? 'hidden_matrices' : 'everything-else'),
      variables: describeOf(kernel, table, bias),
    });
    original.setLearningRate('embedding_table', 5e-5);
    const copy = rebuild(original);
    expect(copy).toBeInstanceOf(HybridOptimizer);
    expect(copy.getConfig()).toEqual(original.getConfig());
    expect(copy.labels).toEqual(['hidden_matrices', 'embedding_table', 'everything-else']);
    expect(copy.learningRateOf('embedding_table')).toBe(5e-5);
    expect(copy.groupOptions('hidden_matrices')).toMatchObject({ coefficients: 'polarExpress5', weightDecay: 0.1 });
    // No label function in the copy: its routes come from the saved decisions.
    expect(copy.routeOf(table.name, table.shape)).toBe('embedding_table');
    expect(copy.routeOf(kernel.name, kernel.shape)).toBe('hidden_matrices');
    expect(copy.routeOf(bias.name, bias.shape)).toBe('everything-else');
  });

  it('routes a new variable by the policy, never by the base name of another live variable (issue 16, item 4)', () => {
    const layer1 = variable([4, 4], 'layer_1');
    const layer2 = variable([4, 4], 'layer_2');
    const optimizer = new MuonWithAdamWOptimizer({ variables: describeOf(layer1, layer2) });
    const layer3 = variable([4, 4], 'layer_3');
    expect(optimizer.routeOf(layer3.name, layer3.shape)).toBe('muon');
    const h1 = variable([8], 'h_1');
    const fromBias = new MuonWithAdamWOptimizer({ variables: describeOf(h1) });
    const h2 = variable([8, 8], 'h_2');
    expect(fromBias.routeOf(h2.name, h2.shape)).toBe('muon');
    const m1 = variable([8, 8], 'm_1');
    const fromMatrix = new MuonWithAdamWOptimizer({ variables: describeOf(m1) });
    const m2 = variable([8], 'm_2');
    expect(fromMatrix.routeOf(m2.name, m2.shape)).toBe('adamw');
  });

  it('after a reload renames variables, a saved route binds to the one variable of that base name and shape', () => {
    const original = new MuonWithAdamWOptimizer({ overrides: [{ pattern: 'wide', to: 'adamw' }], variables: [{ name: 'dense/wide', shape: [4, 16] }] });
    const copy = rebuild(original);
    // The override is not saved, its decision is; a renamed variable of another shape is not bound.
    expect(copy.routeOf('dense/wide_1', [4, 16])).toBe('adamw');
    const other = rebuild(original);
    expect(other.routeOf('dense/wide_1', [16, 4])).toBe('muon');
  });
});
