import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The library's layers and the one rule each keeps: imports point down. A folder is a layer; the
 * two entry files are the package's public faces. Test files and `testing/` (test helpers) may use
 * any layer and are not checked.
 *
 *   math         pure tensor math: NS schedules, the plain/Gram cost model, shape handling; and
 *                where a read-back lands (hostReads: every layer that reads on a step's path uses it)
 *   transforms   gradient transformations (init/update pairs), over math
 *   optimizers   compositions of transformations and their options, over math and transforms
 *   kernels      orthogonalization kernels and every backend question (native addon, wasm), over math
 *   backends     TF.js backend fixes, over math
 *   adapter      tf.Optimizer subclasses; supplies the default kernel
 *   stability    QK-clip: pure rescaling math and an after-step hook (the hook type of the adapter)
 *   layers       tfjs-layers layers (the attention that records max logits), over stability and math
 *   diagnostics  float64 references (ml-matrix; the native addon's LAPACK for spectra) and the spectrum tracker (it listens to the taps)
 */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  math: ['math'],
  transforms: ['transforms', 'math'],
  optimizers: ['optimizers', 'transforms', 'math'],
  kernels: ['kernels', 'math'],
  backends: ['backends', 'math'],
  adapter: ['adapter', 'optimizers', 'transforms', 'kernels', 'backends', 'math'],
  stability: ['stability', 'adapter', 'math'],
  layers: ['layers', 'stability', 'math'],
  diagnostics: ['diagnostics', 'adapter', 'transforms', 'kernels', 'math'],
  // The entry points: the main one must not load the float64 references (ml-matrix) nor
  // tfjs-layers (custom-loop users need not install it).
  'index.ts': ['stability', 'adapter', 'optimizers', 'transforms', 'kernels', 'backends', 'math'],
  'diagnostics.ts': ['diagnostics'],
  'layers.ts': ['layers'],
};

/**
 * Packages beyond tfjs-core (which every layer may use): ml-matrix only where the float64
 * references live, a TF.js backend package only where backend questions are answered, and no
 * `node:` module anywhere (the library runs in browsers; the native addon is loaded dynamically).
 */
const PACKAGES_ALLOWED: Readonly<Record<string, readonly string[]>> = {
  diagnostics: ['ml-matrix'],
  kernels: ['@tensorflow/tfjs-backend-wasm'],
  backends: ['@tensorflow/tfjs-backend-wasm'],
  layers: ['@tensorflow/tfjs-layers'],
};

/** The package of a bare specifier: `@scope/name` or `name`, without a subpath. */
function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return (specifier.startsWith('@') ? parts.slice(0, 2) : parts.slice(0, 1)).join('/');
}

const SOURCE_ROOT = fileURLToPath(new URL('.', import.meta.url));

/**
 * Every import or re-export specifier of a source text (static, dynamic and type-only). Comments
 * are dropped first: TSDoc examples show imports a user writes, not the file's own.
 */
function importSpecifiers(source: string): string[] {
  const code = source.replace(/\/\*[^]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const pattern = /(?:(?:^|[\s}])from\s+|\bimport\s*\(\s*|\bimport\s+)'([^']+)'/gm;
  return [...code.matchAll(pattern)].map((match) => match[1] as string);
}

/** The layer a file belongs to, from its path relative to src/: its folder, or the entry file's name. */
function layerOf(path: string): string {
  const [first] = path.split('/');
  return first as string;
}

/** The rule violations of one source file (path relative to src/, forward slashes). */
function layerViolations(path: string, source: string): string[] {
  const layer = layerOf(path);
  const allowed = ALLOWED[layer];
  if (allowed === undefined) return [`${path}: in no known layer; add its folder to ALLOWED`];
  const packages = ['@tensorflow/tfjs-core', ...(PACKAGES_ALLOWED[layer] ?? [])];
  const violations: string[] = [];
  for (const specifier of importSpecifiers(source)) {
    if (specifier.startsWith('.')) {
      const target = relative(SOURCE_ROOT, join(SOURCE_ROOT, path, '..', specifier)).split('\\').join('/');
      const targetLayer = layerOf(target);
      if (!allowed.includes(targetLayer)) violations.push(`${path} imports ${specifier} (${layer} → ${targetLayer})`);
    } else if (!packages.includes(packageOf(specifier))) {
      violations.push(`${path} imports the package ${specifier}`);
    }
  }
  return violations;
}

function librarySources(dir = SOURCE_ROOT): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'testing' ? [] : librarySources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [relative(SOURCE_ROOT, path).split('\\').join('/')] : [];
  });
}

describe('layers: imports point down', () => {
  it('every library source imports only from its own layer or the layers below it', () => {
    const files = librarySources();
    expect(files.length).toBeGreaterThan(40);
    expect(files.flatMap((path) => layerViolations(path, readFileSync(join(SOURCE_ROOT, path), 'utf8')))).toEqual([]);
  });

  it('catches an arrow pointing up, a backend package in math, ml-matrix outside diagnostics, a node: module', () => {
    expect(layerViolations('math/x.ts', "import { nativeOrthogonalizer } from '../kernels/nativeOrthogonalizer.js';")).toEqual([
      'math/x.ts imports ../kernels/nativeOrthogonalizer.js (math → kernels)',
    ]);
    expect(layerViolations('optimizers/muon.ts', "import type { Orthogonalizer } from '../kernels/fastestOrthogonalizer.js';")).toHaveLength(1);
    expect(layerViolations('transforms/x.ts', "export { muon } from '../optimizers/muon.js';")).toHaveLength(1);
    expect(layerViolations('math/x.ts', "import '@tensorflow/tfjs-backend-wasm';")).toEqual(['math/x.ts imports the package @tensorflow/tfjs-backend-wasm']);
    expect(layerViolations('index.ts', "export { polarFactor } from './diagnostics/polarFactor.js';")).toHaveLength(1);
    expect(layerViolations('math/x.ts', "import { Matrix } from 'ml-matrix';")).toHaveLength(1);
    expect(layerViolations('kernels/x.ts', "import { readFileSync } from 'node:fs';")).toEqual(['kernels/x.ts imports the package node:fs']);
    expect(layerViolations('adapter/x.ts', "import { fastestOrthogonalizer } from '../kernels/fastestOrthogonalizer.js';")).toEqual([]);
  });
});
