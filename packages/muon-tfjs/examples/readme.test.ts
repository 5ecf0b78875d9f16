import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// The README's code blocks are the example files' text, so that what a user copies is what
// examples.test.ts runs here and package.test.ts type-checks (tsc --strict) and runs in empty
// ESM and CommonJS projects.
const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
const EXAMPLES = { 'modelFit.ts': 'ts', 'customLoop.ts': 'ts', 'mixtureOfExperts.ts': 'ts', 'commonJs.cjs': 'js', 'webgpuInNode.ts': 'ts' } as const;
/** Examples the README quotes in part: each of its blocks must be a verbatim excerpt of one of them. */
const EXCERPTED = ['threeWayHybrid.ts', 'tapsAndHooks.ts'];
const blocks = [...readme.matchAll(/^```(ts|js|typescript|javascript)\n([^]*?)^```$/gm)].map((m) => ({ language: m[1], text: m[2] }));

describe('README code blocks', () => {
  it('each example file is a code block of the README, verbatim, under a link to it', () => {
    for (const [file, language] of Object.entries(EXAMPLES)) {
      const text = readFileSync(new URL(`./${file}`, import.meta.url), 'utf8');
      expect(blocks, file).toContainEqual({ language, text });
      expect(readme).toContain(`](packages/muon-tfjs/examples/${file})`);
    }
  });

  it('every TypeScript or JavaScript block of the README is an example file, or an excerpt of one', () => {
    const texts = Object.keys(EXAMPLES).map((file) => readFileSync(new URL(`./${file}`, import.meta.url), 'utf8'));
    const excerpted = EXCERPTED.map((file) => readFileSync(new URL(`./${file}`, import.meta.url), 'utf8'));
    for (const block of blocks) {
      const whole = texts.includes(block.text as string);
      // An excerpt may come from inside a function: the same lines, indented alike in the file.
      const indented = [0, 2, 4, 6, 8].map((k) => (block.text as string).replace(/^(?=.)/gm, ' '.repeat(k)));
      const excerpt = excerpted.some((text) => indented.some((lines) => text.includes(lines)));
      expect(whole || excerpt, block.text?.slice(0, 80)).toBe(true);
    }
    for (const file of EXCERPTED) expect(readme).toContain(`](packages/muon-tfjs/examples/${file})`);
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
