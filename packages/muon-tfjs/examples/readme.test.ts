import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// The README's code blocks are the example files' text, so that what a user copies is what
// examples.test.ts runs here and package.test.ts type-checks (tsc --strict) and runs in empty
// ESM and CommonJS projects.
const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
const EXAMPLES = { 'modelFit.ts': 'ts', 'customLoop.ts': 'ts', 'commonJs.cjs': 'js' } as const;
const blocks = [...readme.matchAll(/^```(ts|js|typescript|javascript)\n([^]*?)^```$/gm)].map((m) => ({ language: m[1], text: m[2] }));

describe('README code blocks', () => {
  it('each example file is a code block of the README, verbatim, under a link to it', () => {
    for (const [file, language] of Object.entries(EXAMPLES)) {
      const text = readFileSync(new URL(`./${file}`, import.meta.url), 'utf8');
      expect(blocks, file).toContainEqual({ language, text });
      expect(readme).toContain(`](packages/muon-tfjs/examples/${file})`);
    }
  });

  it('every TypeScript or JavaScript block of the README is one of the example files', () => {
    const texts = Object.keys(EXAMPLES).map((file) => readFileSync(new URL(`./${file}`, import.meta.url), 'utf8'));
    for (const block of blocks) expect(texts, block.text?.slice(0, 80)).toContain(block.text);
    expect(blocks).toHaveLength(Object.keys(EXAMPLES).length);
  });

  it('links only to files inside the repository, and names no path outside it', () => {
    expect(readme).not.toMatch(/(^|[\s(`'"])\.\.\//m);
    for (const [, target] of readme.matchAll(/\]\(([^)#]+)(#[^)]*)?\)/g)) {
      if (/^[a-z]+:/.test(target as string)) continue; // a URL
      expect(target, 'a relative link').not.toMatch(/^\.\.\//);
      expect(() => readFileSync(new URL(`../../../${target as string}`, import.meta.url)), target).not.toThrow();
    }
  });
});
