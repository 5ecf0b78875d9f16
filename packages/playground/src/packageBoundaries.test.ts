import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The playground's neighbours: it uses the library's public entries, the models, tasks and data of
 * `muon-tfjs-tasks`, and the perf harness (`muon-tfjs-harness`, for `npm run bench:playground`),
 * and no module of the benchmark package (`muon-tfjs-bench`), which is a tool beside it, not
 * beneath it. Every folder of the package is checked: the page's sources, the build and serve
 * scripts, the perf script, the end-to-end tests.
 */
const PACKAGE_ROOT = fileURLToPath(new URL('..', import.meta.url));
const FOLDERS = ['src', 'scripts', 'perf', 'e2e'];
const FORBIDDEN_PACKAGES = ['muon-tfjs-bench'];

/** The package of a bare specifier: `@scope/name` or `name`, without a subpath. */
function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return (specifier.startsWith('@') ? parts.slice(0, 2) : parts.slice(0, 1)).join('/');
}

/** Every import or re-export specifier of a source text (static, dynamic and type-only), comments dropped. */
function importSpecifiers(source: string): string[] {
  const code = source.replace(/\/\*[^]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const pattern = /(?:(?:^|[\s}])from\s+|\bimport\s*\(\s*|\bimport\s+)'([^']+)'/gm;
  return [...code.matchAll(pattern)].map((match) => match[1] as string);
}

/** The imports of one file (path relative to the package) that leave the playground for a forbidden package or another package's folder. */
function boundaryViolations(path: string, source: string): string[] {
  return importSpecifiers(source).flatMap((specifier) => {
    if (FORBIDDEN_PACKAGES.includes(packageOf(specifier))) return [`${path} imports ${specifier}`];
    if (specifier.startsWith('.') && relative(PACKAGE_ROOT, join(PACKAGE_ROOT, path, '..', specifier)).startsWith('..')) {
      return [`${path} imports ${specifier}, outside the playground package`];
    }
    return [];
  });
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [relative(PACKAGE_ROOT, path).split('\\').join('/')] : [];
  });
}

describe('the playground imports no module of the benchmark package', () => {
  it('no source, script, perf script or test imports muon-tfjs-bench or reaches into another package', () => {
    // This file is left out: its examples below are the imports it forbids.
    const files = FOLDERS.flatMap((folder) => sources(join(PACKAGE_ROOT, folder))).filter((path) => path !== 'src/packageBoundaries.test.ts');
    expect(files.length).toBeGreaterThan(20);
    expect(files.flatMap((path) => boundaryViolations(path, readFileSync(join(PACKAGE_ROOT, path), 'utf8')))).toEqual([]);
  });

  it('does not depend on muon-tfjs-bench, and depends on muon-tfjs-tasks', () => {
    const manifest = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
    const dependencies = ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies'].flatMap((field) => Object.keys(manifest[field] ?? {}));
    expect(dependencies.filter((name) => FORBIDDEN_PACKAGES.includes(name))).toEqual([]);
    expect(dependencies).toContain('muon-tfjs-tasks');
  });

  it('catches a benchmark import in any form, and a relative path into another package', () => {
    expect(boundaryViolations('src/x.ts', "import { buildMlp } from 'muon-tfjs-bench/benchmark/models/mlp';")).toEqual([
      'src/x.ts imports muon-tfjs-bench/benchmark/models/mlp',
    ]);
    expect(boundaryViolations('perf/x.ts', "import type { MachineInfo } from 'muon-tfjs-bench/perf/machine';")).toHaveLength(1);
    expect(boundaryViolations('src/x.ts', "const m = await import('muon-tfjs-bench');")).toHaveLength(1);
    expect(boundaryViolations('src/x.ts', "import { buildMlp } from '../../bench/src/benchmark/x.js';")).toHaveLength(1);
    expect(boundaryViolations('src/x.ts', "import { buildMlp } from 'muon-tfjs-tasks';")).toEqual([]);
    expect(boundaryViolations('src/charts/x.ts', "import { loss } from '../lossChart.js';")).toEqual([]);
  });
});
