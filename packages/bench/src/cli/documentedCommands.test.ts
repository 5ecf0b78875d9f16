import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// The commands README.md and docs/*.md tell a reader to type must exist: every `npm run NAME` is a
// script of the root package.json (`npm run bench:*` some script of that prefix), and no page
// names a package `bin` or a built CLI that no workspace package has.
const root = new URL('../../../../', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, root), 'utf8');
const pages = ['README.md', ...readdirSync(new URL('docs/', root)).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const scripts = Object.keys((JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts);
const workspaces = (JSON.parse(read('package.json')) as { workspaces: string[] }).workspaces;
const bins = workspaces.flatMap((w) => {
  const bin = (JSON.parse(read(`${w}/package.json`)) as { bin?: string | Record<string, string> }).bin;
  return bin === undefined ? [] : typeof bin === 'string' ? [w] : Object.keys(bin);
});

describe('the commands the README and docs name', () => {
  it('every `npm run NAME` is a script of the root package.json', () => {
    const named = pages.flatMap((page) => [...read(page).matchAll(/npm run ([\w:.-]+\*?)/g)].map((m) => ({ page, name: m[1] as string })));
    expect(named.length).toBeGreaterThan(50);
    const missing = named.filter(({ name }) => (name.endsWith('*') ? !scripts.some((s) => s.startsWith(name.slice(0, -1))) : !scripts.includes(name)));
    expect(missing).toEqual([]);
  });

  it('names no package bin and no built CLI that does not exist', () => {
    expect(bins).toEqual([]);
    for (const page of pages) {
      expect(read(page), page).not.toMatch(/package `bin`|node dist\/cli\//);
    }
  });
});
