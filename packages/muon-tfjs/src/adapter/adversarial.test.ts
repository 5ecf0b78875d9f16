import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { gramOrthogonalizer } from '../kernels/gramOrthogonalizer.js';
import { type Orthogonalizer, newtonSchulzEach } from '../math/orthogonalizer.js';
import { useBackend } from '../testing/backends.js';
import { refusedStep } from '../testing/refusedStep.js';
import { OPTIMIZER_TEST_BACKENDS, reportWebGpuSkipped } from '../testing/webgpuBackend.js';
import { adamw, lion, muon } from './optimizers.js';
import type { TransformOptimizer } from './TransformOptimizer.js';

// Issue 16: every promise holds under adversarial use. One test per numbered item of the issue,
// on each backend (webgpu where an adapter exists: there a refused step is reported by a later
// call or `whenChecked()`); the native kernel is on or off as the run's environment says (CI runs both).

let counter = 0;
function variable(shape: number[], name = 'adv'): tf.Variable {
  counter += 1;
  return tf.variable(tf.randomNormal(shape, 0, 1, 'float32', counter), true, `${name}${counter}`);
}

/** A tensor's values, read asynchronously (webgpu in Node has no synchronous read). */
const values = async (t: tf.Tensor): Promise<number[]> => Array.from(await t.data());
async function stateOf(optimizer: TransformOptimizer): Promise<[string, number[]][]> {
  const weights = await optimizer.getWeights();
  const out = await Promise.all(weights.map(async ({ name, tensor }) => [name, await values(tensor)] as [string, number[]]));
  (weights[0] as { tensor: tf.Tensor }).tensor.dispose(); // 'iter' is made anew by each call
  return out;
}

reportWebGpuSkipped(it);

describe.each(OPTIMIZER_TEST_BACKENDS)('adversarial use on %s (issue 16)', (backend) => {
  beforeAll(() => useBackend(backend));

  it('1: a step refused for one variable changes no other (state made for another shape)', async () => {
    const a = variable([2, 2]);
    let b = variable([4, 4], 'recreated');
    const optimizer = adamw();
    optimizer.applyGradients({ [a.name]: tf.onesLike(a), [b.name]: tf.onesLike(b) });
    const name = b.name;
    b.dispose();
    b = tf.variable(tf.zeros([4, 1]), true, name);
    const before = await values(a);
    expect(() => optimizer.applyGradients({ [a.name]: tf.onesLike(a), [b.name]: tf.onesLike(b) })).toThrow(
      new RegExp(`the state of '${name}' was made for shape \\[4, 4\\], but the variable now has shape \\[4, 1\\]`),
    );
    expect(await values(a)).toEqual(before);
    expect(optimizer.iterations).toBe(1);
  });

  it('2: setWeights refuses state that cannot be right, and changes nothing (no tensor leaked)', async () => {
    const w = variable([3, 2]);
    const optimizer = adamw();
    optimizer.applyGradients({ [w.name]: tf.onesLike(w) });
    const good = (await optimizer.getWeights()).map(({ name, tensor }) => ({ name, tensor: tensor.clone() }));
    const state = await stateOf(optimizer);
    const corrupt = (entry: string, tensor: tf.Tensor) => good.map((g) => (g.name === entry ? { name: entry, tensor } : g));
    const count = tf.memory().numTensors;
    const cases: [string, ReturnType<typeof corrupt>, RegExp][] = [
      ['NaN moment', corrupt(`${w.name}/m`, tf.fill([3, 2], Number.NaN)), /non-finite \(NaN or Inf\) state in '.*\/m'/],
      ['v = +Inf', corrupt(`${w.name}/v`, tf.fill([3, 2], Number.POSITIVE_INFINITY)), /non-finite \(NaN or Inf\) state in '.*\/v'/],
      ['v < 0', corrupt(`${w.name}/v`, tf.fill([3, 2], -1)), /'.*\/v' has negative entries \(min -1\)/],
      ['iter = -1', corrupt('iter', tf.scalar(-1, 'int32')), /'iter' must be an integer ≥ 0, got -1/],
      ['iter = NaN', corrupt('iter', tf.scalar(Number.NaN)), /'iter' must be an integer ≥ 0, got NaN/],
      ['iter = 0 beside trained moments', corrupt('iter', tf.scalar(0, 'int32')), /'iter' is 0 but '.*' is not zero/],
      ['a duplicate entry', [...good, good[1] as (typeof good)[number]], /appears twice/],
      ['a disposed tensor', corrupt(`${w.name}/m`, (() => { const t = tf.zeros([3, 2]); t.dispose(); return t; })()), /is not a live tensor/],
    ];
    const made = tf.memory().numTensors - count;
    for (const [, checkpoint, error] of cases) {
      await expect(optimizer.setWeights(checkpoint)).rejects.toThrow(error);
    }
    expect(await stateOf(optimizer)).toEqual(state);
    expect(tf.memory().numTensors).toBe(count + made);
  });

  it("3: saved state never binds to another live variable by a guess: blk_2 does not get blk_1's momentum", async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const blk1 = tf.variable(tf.zeros([2, 2]), true, `blk${++counter}_1`);
    const blk2 = tf.variable(tf.zeros([2, 2]), true, blk1.name.replace(/_1$/, '_2'));
    const other = variable([3, 3]);
    const trained = muon({ momentum: 0.95 });
    for (let i = 0; i < 10; i++) trained.applyGradients({ [blk1.name]: tf.fill([2, 2], 5), [other.name]: tf.ones([3, 3]) });
    const checkpoint = (await trained.getWeights()).map(({ name, tensor }) => ({ name, tensor: tensor.clone() }));
    // The first step (blk_2 alone) does not pair one-to-one with the checkpoint (blk_1, other).
    const fresh = muon({ momentum: 0.95 });
    await fresh.setWeights(checkpoint);
    fresh.applyGradients({ [blk2.name]: tf.fill([2, 2], 1) });
    // Fresh state: m = (1 − β)·g = 0.05, not blk_1's ≈ 5·(1 − 0.95¹⁰) = 2.0.
    (await values(fresh.getSlot(blk2.name, 'momentum') as tf.Variable)).forEach((m) => expect(m).toBeCloseTo(0.05, 6));
    // blk_1's state is still there, unbound, for blk_1; the warning names it.
    expect((await stateOf(fresh)).map(([name]) => name)).toContain(`${blk1.name}/momentum`);
    // (tfjs may warn too, the first time a backend runs: only the optimizer's warnings count.)
    const warnings = warn.mock.calls.map(([message]) => String(message)).filter((message) => message.includes('setWeights'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`'${blk1.name}'`);
    // An exact name keeps its own state when the first step lists the same variables in another order.
    const both = muon({ momentum: 0.95 });
    both.applyGradients({ [blk1.name]: tf.fill([2, 2], 5), [blk2.name]: tf.fill([2, 2], 1) });
    const saved = (await both.getWeights()).map(({ name, tensor }) => ({ name, tensor: tensor.clone() }));
    const swapped = muon({ momentum: 0.95 });
    await swapped.setWeights(saved);
    swapped.applyGradients({ [blk2.name]: tf.zeros([2, 2]), [blk1.name]: tf.zeros([2, 2]) });
    (await values(swapped.getSlot(blk1.name, 'momentum') as tf.Variable)).forEach((m) => expect(m).toBeCloseTo(0.95 * 0.25, 6));
    (await values(swapped.getSlot(blk2.name, 'momentum') as tf.Variable)).forEach((m) => expect(m).toBeCloseTo(0.95 * 0.05, 6));
    warn.mockRestore();
  });

  it('5: a variable without a gradient is skipped, its state untouched', async () => {
    const used = variable([3, 3]);
    const unused = variable([3, 3]);
    const before = await values(unused);
    const optimizer = muon();
    const x = tf.ones([2, 3]);
    optimizer.minimize(() => tf.sum(tf.matMul(x, used)), false, [used, unused]);
    optimizer.applyGradients([{ name: used.name, tensor: tf.onesLike(used) }, { name: unused.name, tensor: null as unknown as tf.Tensor }]);
    expect(await values(unused)).toEqual(before);
    expect(optimizer.variableNames).toEqual([used.name]);
    expect(optimizer.iterations).toBe(2);
  });

  it('6: AdamW refuses a finite gradient whose square overflows, instead of freezing the variable', async () => {
    const w = variable([2, 2]);
    const optimizer = adamw();
    optimizer.applyGradients({ [w.name]: tf.onesLike(w) });
    const before = await values(w);
    const state = await stateOf(optimizer);
    // (1e20)² = 1e40 > float32's 3.4e38: v would be +Inf forever.
    const error = await refusedStep(optimizer, () => optimizer.applyGradients({ [w.name]: tf.fill([2, 2], 1e20) }));
    expect(error.message).toMatch(new RegExp(`computed non-finite \\(NaN or Inf\\) values for '${w.name}/v' from finite gradients .*no variable was updated`));
    expect(await values(w)).toEqual(before);
    expect(await stateOf(optimizer)).toEqual(state);
  });

  it.each([
    ['plain TF.js', newtonSchulzEach],
    ['Gram TF.js', gramOrthogonalizer({ algorithm: 'gram' })],
  ] as const)("7: a gradient whose Frobenius norm overflows float32 still steps (%s kernel), as its scaled copy does", async (_, kernel) => {
    // Entries near 1e19 (and one at 3e38): ‖g‖_F² overflows float32. The update is invariant to a
    // positive scale of the gradient (Muon's momentum starts at 0 and NS normalizes), so it must
    // equal the update for g·1e-19 up to float32 round-off of the normalization (relative 1e-5).
    const base = tf.randomNormal([64, 32], 0, 1, 'float32', 71);
    const huge = tf.mul(base, 1e19);
    const start = tf.randomNormal([64, 32], 0, 1, 'float32', 72);
    const a = tf.variable(start.clone(), true, `overflow${++counter}`);
    const b = tf.variable(start.clone(), true, `overflow${++counter}`);
    muon({ execution: { orthogonalize: kernel } }).applyGradients({ [a.name]: huge });
    muon({ execution: { orthogonalize: kernel } }).applyGradients({ [b.name]: base });
    const stepA = tf.sub(a, start);
    const stepB = tf.sub(b, start);
    const [normA, normB, normDifference] = await Promise.all([stepA, stepB, tf.sub(stepA, stepB)].map(async (t) => (await tf.norm(t).data())[0] as number));
    expect(normA).toBeGreaterThan(0);
    expect(normDifference).toBeLessThan(1e-5 * (normB as number));
    const extreme = tf.variable(tf.zeros([8, 8]), true, `overflow${++counter}`);
    muon({ execution: { orthogonalize: kernel } }).applyGradients({ [extreme.name]: tf.fill([8, 8], 3e38) });
    expect((await values(extreme)).every((x) => x !== 0 && Number.isFinite(x))).toBe(true);
  });

  it('8, 9: eps = 0, epsilon = 0 and a non-function kernel are refused at construction', () => {
    expect(() => muon({ eps: 0 })).toThrow(/eps must be a finite number > 0, got 0/);
    expect(() => muon({ precision: 'fp16' as 'float32' })).toThrow(/precision must be 'float32', 'bfloat16' or 'float16'; got "fp16"/);
    expect(() => adamw({ epsilon: 0 })).toThrow(/epsilon must be a finite number > 0, got 0/);
    expect(() => muon({ execution: { orthogonalize: 'x' as unknown as Orthogonalizer } })).toThrow(/execution.orthogonalize must be a function .*got string/);
  });

  it('10: a zero-size variable steps (and changes nothing)', () => {
    const empty = tf.variable(tf.zeros([0, 3]), true, `empty${++counter}`);
    const optimizer = adamw();
    optimizer.applyGradients({ [empty.name]: tf.zeros([0, 3]) });
    expect(optimizer.iterations).toBe(1);
  });

  it('12: non-finite new values are caught, whatever makes them; a first step leaves no state', async () => {
    const w = variable([4, 4]);
    const before = await values(w);
    const nanKernel: Orthogonalizer = (matrices) => matrices.map((m) => tf.mul(m, Number.NaN) as tf.Tensor2D);
    const broken = muon({ execution: { orthogonalize: nanKernel } });
    const error = await refusedStep(broken, () => broken.applyGradients({ [w.name]: tf.onesLike(w) }));
    expect(error.message).toMatch(new RegExp(`non-finite .* for '${w.name}'.* from finite gradients`));
    expect(broken.variableNames).toEqual([]);
    expect(await stateOf(broken)).toEqual([['iter', [0]]]);
    // Coefficients that diverge: each iteration multiplies σ by about 100.
    const diverging = muon({ coefficients: [100, 100, 100], nsSteps: 30 });
    expect((await refusedStep(diverging, () => diverging.applyGradients({ [w.name]: tf.onesLike(w) }))).message).toMatch(/non-finite/);
    expect(await values(w)).toEqual(before);
  });

  it('decided: an empty step does not count; a disposed gradient is named; null options are refused', () => {
    const w = variable([2, 2]);
    const optimizer = muon();
    optimizer.applyGradients({});
    optimizer.applyGradients([]);
    expect(optimizer.iterations).toBe(0);
    const g = tf.onesLike(w);
    g.dispose();
    expect(() => optimizer.applyGradients({ [w.name]: g })).toThrow(new RegExp(`the gradient of '${w.name}' was disposed before the step`));
    expect(() => muon({ momentum: null as unknown as number })).toThrow(/option 'momentum' is null; leave it out/);
    expect(() => adamw({ beta1: null as unknown as number })).toThrow(/option 'beta1' is null/);
    expect(() => lion({ weightDecay: null as unknown as number })).toThrow(/option 'weightDecay' is null/);
    expect(Object.isFrozen(muon().options)).toBe(true);
    expect(Object.isFrozen(adamw().options)).toBe(true);
  });

  it("decided: unknown restored slots and gradients aimed at the optimizer's own state are refused; a disposed optimizer refuses work", async () => {
    const w = variable([2, 2]);
    const trained = adamw();
    trained.applyGradients({ [w.name]: tf.onesLike(w) });
    const m = trained.getSlot(w.name, 'm') as tf.Variable;
    expect(() => trained.applyGradients({ [m.name]: tf.onesLike(m) })).toThrow(new RegExp(`'${m.name}', which is this optimizer's own state`));
    const checkpoint = (await trained.getWeights()).map(({ name, tensor }) => ({ name, tensor: tensor.clone() }));
    const asMuon = muon();
    await asMuon.setWeights(checkpoint.map(({ name, tensor }) => ({ name: name.replace(/\/v$/, '/momentum'), tensor })));
    expect(() => asMuon.applyGradients({ [w.name]: tf.onesLike(w) })).toThrow(/has a 'm' slot \(float32 \[2, 2\]\), which MuonOptimizer does not keep for it: it keeps 'momentum' \(float32 \[2, 2\]\)/);
    trained.dispose();
    expect(() => trained.applyGradients({ [w.name]: tf.onesLike(w) })).toThrow(/AdamWOptimizer was disposed/);
  });
});
