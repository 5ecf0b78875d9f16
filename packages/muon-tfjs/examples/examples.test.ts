import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';

// The README's examples, run as they are printed there (the files are the README's code blocks:
// readme.test.ts). Each is a script; it prints its first and last loss, read back here.
async function lossesPrintedBy(example: string): Promise<[number, number]> {
  const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
  vi.spyOn(console, 'table').mockImplementation(() => undefined);
  await import(example);
  const line = log.mock.calls.map((args) => String(args[0])).find((s) => s.startsWith('loss '));
  vi.restoreAllMocks();
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

  it('a custom loop with muon() fits the linear map (customLoop.ts)', async () => {
    const [first, last] = await lossesPrintedBy('./customLoop.js');
    expect(last).toBeLessThan(1e-2 * first);
  });

  it('the CommonJS example uses the same API names as the package exports (it runs in package.test.ts)', async () => {
    const library = await import('muon-tfjs');
    const required = /const \{ ([^}]+) \} = require\('muon-tfjs'\);/.exec(readFileSync(new URL('./commonJs.cjs', import.meta.url), 'utf8'));
    for (const name of required?.[1]?.split(', ') ?? ['(no require of muon-tfjs)']) expect(library, name).toHaveProperty(name);
  });
});
