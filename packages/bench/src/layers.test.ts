import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The benchmark's stages, bottom to top, and the one rule they keep: an import points to the
 * file's own stage or one below it, never back up. The tasks (models, data, the task contract)
 * come from the `muon-tfjs-tasks` package, beneath every stage.
 *
 *   protocol   what is compared and how it is tuned: optimizer specs, schedules, the grid search,
 *              the plan of a run, the loss statistics every comparison uses
 *   runs       training: one run, a run on a model's schedule, the searches, the backend
 *   results    results.json: its schema, the scoring against the target, merging, ratios
 *   report     tables, charts and the files a run writes
 *
 * `benchmark/runBenchmark.ts` drives the protocol through the runs to the results (not the report,
 * which the caller writes); `index.ts`, the package's entry, exports the stages' public parts. The
 * tools on top, `spectrum/` and `qkClip/` (studies that reuse the stages) and `cli/` (the
 * command), may use any stage; no stage uses them. Test files may use any
 * stage and are not checked.
 */
const STAGES = ['benchmark/protocol', 'benchmark/runs', 'benchmark/results', 'benchmark/report'] as const;

const below = (stage: (typeof STAGES)[number]): string[] => STAGES.slice(0, STAGES.indexOf(stage) + 1);

const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  'benchmark/protocol': below('benchmark/protocol'),
  'benchmark/runs': below('benchmark/runs'),
  'benchmark/results': below('benchmark/results'),
  'benchmark/report': below('benchmark/report'),
  'benchmark/runBenchmark': ['benchmark/protocol', 'benchmark/runs', 'benchmark/results'],
  'spectrum': ['spectrum', ...STAGES],
  'qkClip': ['qkClip', ...STAGES],
  'cli': ['cli', 'spectrum', 'qkClip', 'benchmark/runBenchmark', ...STAGES],
  // The package's entry (its exports map's '.'): the protocol for a study of one's own.
  'index.ts': ['benchmark/runBenchmark', ...STAGES],
};

/**
 * Packages each part may use besides the library's public entries (`muon-tfjs`,
 * `muon-tfjs/diagnostics`, `muon-tfjs/layers`), TF.js and Node's own modules: the tasks package
 * everywhere, the chart libraries only where charts are drawn, the progress bar only in the CLI.
 * Never the playground, and never a path inside another package.
 */
const COMMON_PACKAGES = ['muon-tfjs', 'muon-tfjs-tasks', '@tensorflow/tfjs-core', '@tensorflow/tfjs-layers'];
const PACKAGES_ALLOWED: Readonly<Record<string, readonly string[]>> = {
  'benchmark/runs': ['@tensorflow/tfjs-backend-cpu', '@tensorflow/tfjs-backend-wasm'],
  'benchmark/report': ['vega', 'vega-lite'],
  'spectrum': ['vega-lite'],
  'cli': ['cli-progress'],
};
const PUBLIC_ENTRIES = new Set(['muon-tfjs', 'muon-tfjs/diagnostics', 'muon-tfjs/layers', 'muon-tfjs-tasks', 'muon-tfjs-tasks/datasets', 'muon-tfjs-tasks/catalog']);

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

/** The part a file belongs to, from its path relative to src/: its stage folder, its tool folder, or the driver. */
function partOf(path: string): string {
  const [first, second] = path.split('/');
  if (first !== 'benchmark') return first as string;
  // A file directly in benchmark/ is a part of its own, named without its extension (.ts, or .js in a specifier).
  return `benchmark/${(second as string).replace(/\.[jt]s$/, '')}`;
}

/** The rule violations of one source file (path relative to src/, forward slashes). */
function stageViolations(path: string, source: string): string[] {
  const part = partOf(path);
  const allowed = ALLOWED[part];
  if (allowed === undefined) return [`${path}: in no known stage; add its folder to ALLOWED`];
  const packages = [...COMMON_PACKAGES, ...(PACKAGES_ALLOWED[part] ?? [])];
  const violations: string[] = [];
  for (const specifier of importSpecifiers(source)) {
    if (specifier.startsWith('.')) {
      const target = relative(SOURCE_ROOT, join(SOURCE_ROOT, path, '..', specifier)).split('\\').join('/');
      const targetPart = target.startsWith('..') ? 'outside src' : partOf(target);
      if (!allowed.includes(targetPart)) violations.push(`${path} imports ${specifier} (${part} → ${targetPart})`);
    } else if (specifier.startsWith('node:')) {
      continue;
    } else if (!packages.includes(packageOf(specifier))) {
      violations.push(`${path} imports the package ${specifier}`);
    } else if (packageOf(specifier).startsWith('muon-tfjs') && !PUBLIC_ENTRIES.has(specifier)) {
      violations.push(`${path} imports ${specifier}, not a public entry`);
    }
  }
  return violations;
}

function benchSources(dir = SOURCE_ROOT): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return benchSources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [relative(SOURCE_ROOT, path).split('\\').join('/')] : [];
  });
}

describe('the benchmark by stage: imports never point back up', () => {
  it('every source imports only from its own stage or the stages below it', () => {
    const files = benchSources();
    expect(files.length).toBeGreaterThan(30);
    expect(files.flatMap((path) => stageViolations(path, readFileSync(join(SOURCE_ROOT, path), 'utf8')))).toEqual([]);
  });

  it('has a file in every stage, and nothing left in the flat benchmark folder but the driver', () => {
    const files = benchSources();
    for (const stage of STAGES) expect(files.some((f) => f.startsWith(`${stage}/`)), stage).toBe(true);
    expect(files.filter((f) => /^benchmark\/[^/]+$/.test(f))).toEqual(['benchmark/runBenchmark.ts']);
  });

  it('catches an import back up a stage, the driver in a stage, a tool in a stage, a deep import, the playground', () => {
    expect(stageViolations('benchmark/report/table.ts', "import type { RunSummary } from '../runs/runSummary.js';")).toEqual([]);
    expect(stageViolations('benchmark/protocol/benchPlan.ts', "import { DEFAULT_PROTOCOL } from '../runBenchmark.js';")).toEqual([
      'benchmark/protocol/benchPlan.ts imports ../runBenchmark.js (benchmark/protocol → benchmark/runBenchmark)',
    ]);
    expect(stageViolations('benchmark/runs/trainRun.ts', "import type { ModelResult } from '../results/results.js';")).toEqual([
      'benchmark/runs/trainRun.ts imports ../results/results.js (benchmark/runs → benchmark/results)',
    ]);
    expect(stageViolations('benchmark/results/x.ts', "export { formatTextTable } from '../report/table.js';")).toHaveLength(1);
    expect(stageViolations('benchmark/runBenchmark.ts', "import { writeOutputs } from './report/writeOutputs.js';")).toHaveLength(1);
    expect(stageViolations('benchmark/report/x.ts', "import { runQkClipDemo } from '../../qkClip/qkClipDemo.js';")).toHaveLength(1);
    expect(stageViolations('benchmark/protocol/x.ts', "import { commandLine } from '../../../perf/x.js';")).toHaveLength(1);
    expect(stageViolations('benchmark/runs/x.ts', "import { Task } from 'muon-tfjs-tasks/src/task';")).toEqual([
      'benchmark/runs/x.ts imports muon-tfjs-tasks/src/task, not a public entry',
    ]);
    expect(stageViolations('benchmark/protocol/x.ts', "import 'muon-tfjs-playground';")).toHaveLength(1);
    expect(stageViolations('benchmark/protocol/x.ts', "import * as vl from 'vega-lite';")).toHaveLength(1);
    expect(stageViolations('cli/main.ts', "import { runBenchmark } from '../benchmark/runBenchmark.js';")).toEqual([]);
  });
});
