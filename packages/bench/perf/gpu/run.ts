/**
 * `npm run bench:gpu`: Muon's and AdamW's training step, Newton–Schulz time and kernel dispatches
 * per step on each backend that comes up: wasm, webgl and webgpu in headless Chromium (the
 * bench:browser harness, ../browser/benchPage.ts, bundles ./page.ts), and webgpu in Node through
 * Dawn's `webgpu` package (./nodeWebGpu.ts). What is measured and how: ./gpuBench.ts.
 *
 *   npm run bench:gpu [-- --backends wasm,webgl,webgpu,node-webgpu --models toy,mlp,convnet,transformer,bench-transformer --runs 5 --steps 10 --warmup 3 --ns-shape 768x3072]
 *
 * Every backend names its adapter or renderer, and figures from a software one (SwiftShader,
 * llvmpipe) are marked so and never scored against the GPU targets. Results go to
 * bench-results/gpu-<time>.json, with the printed tables. docs/performance.md says how to run it
 * on a real GPU.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commandLine, machineInfo, printMachine } from 'muon-tfjs-harness';
import { bundlePage, callPage, DEFAULT_CHROMIUM, launchChromium, playwrightVersion, servePage } from '../browser/benchPage.js';
import { loadMobyDick } from 'muon-tfjs-tasks/datasets';
import { GPU_BENCH_MODELS, type GpuBenchConfig, type GpuBenchModel, type GpuBenchResult, runGpuBench } from './gpuBench.js';
import { type BackendOutcome, formatGpuBenchTables } from './gpuBenchReport.js';
import { startNodeWebGpu } from './nodeWebGpu.js';
import { BROWSER_BACKENDS, type BrowserBackend, type GpuPageConfig } from './gpuPageConfig.js';

/**
 * Chromium's flags: WebGPU where an adapter exists, WebGL and WebGPU allowed on SwiftShader where
 * there is no GPU, no GPU blocklist. Chromium picks the hardware GPU where it can use one; the
 * adapter names say which it got. On a GPU machine where it still picks SwiftShader, try
 * `--chromium-flags "--enable-unsafe-webgpu --ignore-gpu-blocklist --use-angle=vulkan --enable-features=Vulkan"`.
 */
const DEFAULT_CHROMIUM_FLAGS = '--enable-unsafe-webgpu --enable-unsafe-swiftshader --ignore-gpu-blocklist';
const ALL_BACKENDS = [...BROWSER_BACKENDS, 'node-webgpu'] as const;
type BackendId = (typeof ALL_BACKENDS)[number];

const USAGE = `Usage: npm run bench:gpu [-- options]

Muon's and AdamW's training step, Newton–Schulz time and kernel dispatches per step on each
backend that comes up (wasm, webgl, webgpu in headless Chromium; webgpu in Node through Dawn),
with a Newton–Schulz micro-benchmark against the backend's float32 matmul rate. Every backend
names its adapter; software adapters' figures are marked. Writes bench-results/gpu-<time>.json.

Options:
  --backends LIST        comma-separated: ${ALL_BACKENDS.join(', ')} (default all)
  --models LIST          comma-separated: ${GPU_BENCH_MODELS.join(', ')} (default all)
  --runs N               timed runs per optimizer, median reported (default 5)
  --steps N              steps queued between two fences in a run (default 10)
  --warmup N             untimed steps first (default 3)
  --ns-shape RxC         the Newton–Schulz micro-benchmark's matrix, or none (default 768x3072)
  --chromium PATH        the browser binary (default ${DEFAULT_CHROMIUM})
  --chromium-flags STR   Chromium's flags (default "${DEFAULT_CHROMIUM_FLAGS}")
  -h, --help             this text
`;

// Parsed first, so that --help or a wrong flag never starts a measurement.
const args = commandLine({ usage: USAGE, strings: ['backends', 'models', 'runs', 'steps', 'warmup', 'ns-shape', 'chromium', 'chromium-flags'] });

function list<T extends string>(value: string | undefined, allowed: readonly T[], option: string): T[] {
  const items = (value ?? allowed.join(',')).split(',');
  const unknown = items.filter((item) => !(allowed as readonly string[]).includes(item));
  if (unknown.length > 0) throw new Error(`--${option} takes ${allowed.join(', ')}; got ${unknown.join(', ')}`);
  return items as T[];
}

function count(option: 'runs' | 'steps' | 'warmup', fallback: number): number {
  const value = Number(args[option] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${option} takes a whole number ≥ 1; got ${args[option]}`);
  return value;
}

function newtonSchulzShape(): readonly [number, number] | null {
  const value = args['ns-shape'] ?? '768x3072';
  if (value === 'none') return null;
  const match = /^(\d+)x(\d+)$/.exec(value);
  if (match === null) throw new Error(`--ns-shape takes RxC (768x3072) or none; got ${value}`);
  return [Number(match[1]), Number(match[2])];
}

const message = (error: unknown): string => (error instanceof Error ? error.message.split('\n')[0] ?? '' : String(error));

async function inChromium(backends: readonly BrowserBackend[], bench: GpuBenchConfig): Promise<{ outcomes: BackendOutcome[]; chromium: string; flags: string[] }> {
  const flags = (args['chromium-flags'] ?? DEFAULT_CHROMIUM_FLAGS).split(/\s+/).filter((f) => f !== '');
  const bundle = await bundlePage(join(dirname(fileURLToPath(import.meta.url)), 'page.ts'));
  const server = await servePage(bundle);
  const browser = await launchChromium(args['chromium'] ?? DEFAULT_CHROMIUM, flags);
  const chromium = browser.version();
  console.log(`Chromium ${chromium} (headless, playwright-core ${playwrightVersion()}), flags: ${flags.join(' ')}`);
  const outcomes: BackendOutcome[] = [];
  try {
    for (const backend of backends) {
      console.log(`chromium / ${backend}:`);
      const config: GpuPageConfig = { backend, bench };
      try {
        outcomes.push({ environment: 'chromium', ...((await callPage(browser, server.origin, { label: backend, isolated: true, entry: 'muonGpuBench', config })) as GpuBenchResult) });
      } catch (error) {
        outcomes.push({ environment: 'chromium', backend, error: message(error) });
      }
    }
  } finally {
    await browser.close();
    await server.close();
  }
  return { outcomes, chromium, flags };
}

async function inNode(bench: GpuBenchConfig): Promise<BackendOutcome> {
  console.log('node / webgpu (Dawn):');
  const started = await startNodeWebGpu();
  if (!started.started) return { environment: 'node', backend: 'webgpu', error: started.reason };
  console.log(`  Vulkan: ${started.driver.note}`);
  console.log(`  adapter: ${started.adapter.name}${started.adapter.software ? ' (software: not GPU figures)' : ''}`);
  return { environment: 'node', note: started.driver.note, ...(await runGpuBench(bench, started.adapter)) };
}

async function main(): Promise<void> {
  const backends = list<BackendId>(args['backends'], ALL_BACKENDS, 'backends');
  const models = list<GpuBenchModel>(args['models'], GPU_BENCH_MODELS, 'models');
  const bench: GpuBenchConfig = {
    models, runs: count('runs', 5), stepsPerRun: count('steps', 10), warmupSteps: count('warmup', 3),
    newtonSchulzShape: newtonSchulzShape(), vocabSize: loadMobyDick().vocab.length,
  };
  const machine = machineInfo();
  printMachine(machine);
  console.log(`models ${models.join(', ')}; ${bench.runs} runs of ${bench.stepsPerRun} steps after ${bench.warmupSteps} warm-up steps; medians\n`);

  const browserBackends = backends.filter((b): b is BrowserBackend => b !== 'node-webgpu');
  const browser = browserBackends.length > 0 ? await inChromium(browserBackends, bench) : { outcomes: [], chromium: null, flags: [] };
  const outcomes = [...browser.outcomes, ...(backends.includes('node-webgpu') ? [await inNode(bench)] : [])];

  const tables = formatGpuBenchTables(outcomes);
  console.log(`\n${tables}`);
  mkdirSync('bench-results', { recursive: true });
  const file = `bench-results/gpu-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
  writeFileSync(file, JSON.stringify({ benchmark: 'gpu', machine, chromium: browser.chromium, chromiumFlags: browser.flags, config: bench, results: outcomes, tables }, null, 2));
  console.log(`\nwritten: ${file}`);
}

await main();
