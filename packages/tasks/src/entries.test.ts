import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The tasks package sits beneath both tools: it imports neither the benchmark nor the playground,
 * and its main entry runs in browsers (the playground bundles it), so nothing it loads may import
 * a `node:` module; the data loaders that read files are in `muon-tfjs-tasks/datasets`.
 */
const SOURCE_ROOT = fileURLToPath(new URL('.', import.meta.url));
const TOOLS = ['muon-tfjs-bench', 'muon-tfjs-playground', 'muon-tfjs-harness'];

/** Every import or re-export specifier of a source text (static, dynamic and type-only), comments dropped. */
function importSpecifiers(source: string): string[] {
  const code = source.replace(/\/\*[^]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const pattern = /(?:(?:^|[\s}])from\s+|\bimport\s*\(\s*|\bimport\s+)'([^']+)'/gm;
  return [...code.matchAll(pattern)].map((match) => match[1] as string);
}

/** The files an entry loads (paths relative to src/), following relative imports, and the packages they name. */
function reachable(entry: string): { files: string[]; packages: string[] } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (path: string): void => {
    if (files.has(path)) return;
    files.add(path);
    for (const specifier of importSpecifiers(readFileSync(join(SOURCE_ROOT, path), 'utf8'))) {
      if (specifier.startsWith('.')) visit(relative(SOURCE_ROOT, join(SOURCE_ROOT, dirname(path), specifier.replace(/\.js$/, '.ts'))).split('\\').join('/'));
      else packages.add(specifier);
    }
  };
  visit(entry);
  return { files: [...files].sort(), packages: [...packages].sort() };
}

function sources(dir = SOURCE_ROOT): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [relative(SOURCE_ROOT, path).split('\\').join('/')] : [];
  });
}

describe('muon-tfjs-tasks: beneath the tools, its main entry browser-safe', () => {
  it('no source imports the benchmark, the playground or the perf harness', () => {
    const offending = sources().flatMap((path) =>
      importSpecifiers(readFileSync(join(SOURCE_ROOT, path), 'utf8')).filter((s) => TOOLS.some((tool) => s === tool || s.startsWith(`${tool}/`))).map((s) => `${path} imports ${s}`));
    expect(offending).toEqual([]);
  });

  it('the main entry loads no node: module and none of the data loaders', () => {
    const { files, packages } = reachable('index.ts');
    expect(packages.filter((p) => p.startsWith('node:'))).toEqual([]);
    expect(files.filter((f) => ['data/mnist.ts', 'data/fashionMnist.ts', 'data/mobyDick.ts'].includes(f))).toEqual([]);
    expect(files).toContain('models/transformer.ts');
  });

  it('every entry of the exports map exists', () => {
    const manifest = JSON.parse(readFileSync(join(SOURCE_ROOT, '..', 'package.json'), 'utf8')) as { exports: Record<string, string> };
    expect(Object.keys(manifest.exports)).toEqual(['.', './datasets', './catalog', './package.json']);
    for (const target of Object.values(manifest.exports)) expect(() => readFileSync(join(SOURCE_ROOT, '..', target))).not.toThrow();
  });
});
