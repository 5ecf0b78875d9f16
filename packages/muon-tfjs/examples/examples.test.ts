import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { trainWithSophia } from './sophiaCustomLoop.js';
import { pointDawnAtVulkanDriver } from '../src/testing/vulkanDriver.js';
import { trainThreeWayHybrid } from './threeWayHybrid.js';

// The WebGPU example starts Dawn itself, on the driver this sets (the machine's, else
// SwiftShader's); src/testing/webgpuBackend.ts is not loaded, as one process holds one Dawn
// instance well, not two (a second one crashed the test worker).
const WEBGPU_MISSING = pointDawnAtVulkanDriver();

// The README's examples, run as they are printed there (the files are the README's code blocks:
// readme.test.ts). Each is a script; it prints its first and last loss, read back here.
async function linesPrintedBy(example: string): Promise<string[]> {
  const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
  vi.spyOn(console, 'table').mockImplementation(() => undefined);
  await import(example);
  const lines = log.mock.calls.map((args) => String(args[0]));
  vi.restoreAllMocks();
  return lines;
}

async function lossesPrintedBy(example: string): Promise<[number, number]> {
  const line = (await linesPrintedBy(example)).find((s) => s.startsWith('loss '));
  const match = /^loss (\S+) → (\S+)$/.exec(line ?? '');
  if (match === null) throw new Error(`${example} printed no 'loss a → b' line`);
  return [Number(match[1]), Number(match[2])];
}

describe('README examples', () => {
  it('model.fit with muonWithAdamW learns the classes (modelFit.ts)', async () => {
    const [first, last] = await lossesPrintedBy('./modelFit.js');
    // Three classes: ln 3 = 1.10 at chance.
    expect(last).toBeLessThan(0.5 * first);
  });

  it.skipIf(WEBGPU_MISSING !== undefined)('model.fit with muonWithAdamW on webgpu in Node learns the classes (webgpuInNode.ts)', async () => {
    const [first, last] = await lossesPrintedBy('./webgpuInNode.js');
    expect(last).toBeLessThan(0.5 * first);
  }, 120_000);
  if (WEBGPU_MISSING !== undefined) it.skip(`webgpuInNode.ts: skipped, ${WEBGPU_MISSING}`, () => undefined);

  it('a custom loop with muon() fits the linear map (customLoop.ts)', async () => {
    const [first, last] = await lossesPrintedBy('./customLoop.js');
    expect(last).toBeLessThan(1e-2 * first);
  });

  it('a custom loop with muon() fits each expert of an [E, in, out] weight, per matrix (mixtureOfExperts.ts)', async () => {
    const [first, last] = await lossesPrintedBy('./mixtureOfExperts.js');
    expect(last).toBeLessThan(1e-2 * first);
  });

  it('the CommonJS example uses the same API names as the package exports (it runs in package.test.ts)', async () => {
    const library = await import('muon-tfjs');
    const required = /const \{ ([^}]+) \} = require\('muon-tfjs'\);/.exec(readFileSync(new URL('./commonJs.cjs', import.meta.url), 'utf8'));
    for (const name of required?.[1]?.split(', ') ?? ['(no require of muon-tfjs)']) expect(library, name).toHaveProperty(name);
  });

  it('taps report on the steps asked for, and the hook keeps the weights in range (tapsAndHooks.ts)', async () => {
    const lines = await linesPrintedBy('./tapsAndHooks.js');
    expect(lines.filter((l) => l.includes('‖NS input‖_F')).map((l) => l.split(' ')[1])).toEqual(['25', '50', '75', '100']);
    const maxima = lines.filter((l) => l.includes('max |NS output|')).map((l) => Number(l.split('= ')[1]));
    expect(maxima).toHaveLength(4);
    // An orthogonalized 32×16 matrix has entries of size about 1/√32 ≈ 0.18, never above 1.2 (jordan's band).
    maxima.forEach((m) => expect(m).toBeLessThan(1.2));
    const match = /^loss (\S+) → (\S+)$/.exec(lines.find((l) => l.startsWith('loss ')) ?? '');
    expect(Number(match?.[2])).toBeLessThan(0.05 * Number(match?.[1]));
  });

  it('a custom loop with Sophia, its Hessian estimate every 10 steps and a cosine schedule, learns the classes', async () => {
    const { first, last, unclipped } = await trainWithSophia(60);
    // Four classes: ln 4 = 1.39 at chance.
    expect(last).toBeLessThan(0.5 * first);
    expect(unclipped).toHaveLength(6 * 4); // steps 1, 11, …, 51; two kernels and two biases
    expect(unclipped.every((f) => f >= 0 && f <= 1)).toBe(true);
  });

  it('a three-way hybrid trains, saves, reloads and resumes bit-identically (threeWayHybrid.ts)', async () => {
    const { routing, lossBefore, lossAfter, resumedExactly, reloadedLabels } = await trainThreeWayHybrid();
    const byLabel = (label: string) => routing.filter((r) => r.label === label).map((r) => `${r.optimizer} ${r.shape.join('x')}`);
    expect(byLabel('hidden_matrices')).toEqual(['muon 32x32', 'muon 32x32']);
    expect(byLabel('embedding_table')).toEqual(['lion 16x8']);
    expect(byLabel('everything_else')).toEqual(['adamw 32', 'adamw 32', 'adamw 32x4', 'adamw 4']);
    // Four classes: ln 4 = 1.39 at chance; the class is a function of the first token.
    expect(lossBefore).toBeGreaterThan(1.2);
    expect(lossAfter).toBeLessThan(0.2 * lossBefore);
    expect(resumedExactly).toBe(true);
    // Labels survive tfjs-layers' camel-casing of saved configs.
    expect(reloadedLabels).toEqual(['hidden_matrices', 'embedding_table', 'everything_else']);
  });
});
