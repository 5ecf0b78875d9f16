/**
 * `npm run bench:browser`: the browser-capable orthogonalization (TF.js `gramOrthogonalizer()` on
 * tfjs-backend-wasm) timed in a real browser, Debian's Chromium driven headless by playwright-core.
 *
 * In Node, tfjs-backend-wasm 4.22 runs one XNNPACK thread unless `enableWasmThreadsInNode` patches
 * it; in a browser it starts its threaded build by itself when the page is cross-origin isolated.
 * This runner checks what a page actually gets: it bundles bench/browser/page.ts with esbuild,
 * serves it from 127.0.0.1 with COOP/COEP headers next to the package's .wasm files, and for each
 * `--threads` entry opens a fresh browser context (the thread count is fixed when the backend
 * starts) that calls `setThreadsCount(n)` (or nothing, for `default`) and reports the threads
 * obtained, 1024³ matmul GFLOP/s and the time to orthogonalize the GPT-2-small hidden matrices,
 * `--layers` × [768×2304, 768×768, 768×3072, 3072×768] (jordan, 5 steps), after a one-layer warm-up.
 * Two quick probes come first: the isolated page without `setThreadsCount`, and the same page
 * served without COOP/COEP. Last, for each `--override-threads` entry n (default 2; `none` skips),
 * a page that starts the backend with the library's `enableWasmThreadsInBrowser({ threads: n })`:
 * tfjs-backend-wasm caps XNNPACK at hardwareConcurrency / 2 threads whatever `setThreadsCount`
 * asks, i.e. one thread on a 2-core machine, and that function lifts the cap.
 *
 *   npm run bench:browser [-- --threads 1,2 --override-threads 2 --layers 12 --runs 1 --kernels gram,plain --matmul-runs 7 --chromium /usr/bin/chromium]
 *
 * The reference is the PyTorch Muon step on this machine, 12.5 s for 12 layers, scaled by
 * layers/12 as in bench/step.ts; the target for this path is ≤ 2.5×. Results go to
 * bench-results/browser-<time>.json. Needs Chromium (Debian: `apt-get install -y chromium`); CI
 * does not run it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { version as esbuildVersion } from 'esbuild';
import { bundlePage, callPage, DEFAULT_CHROMIUM, launchChromium, playwrightVersion, servePage } from './benchPage.js';
import { commandLine, machineInfo, median, printMachine } from 'muon-tfjs-harness';
import type { BrowserKernel, PageConfig, PageResult } from './page.js';
import { PYTORCH_MUON_STEP_S } from '../gpt2Small.js';

const USAGE = `Usage: npm run bench:browser [-- options]

The TF.js orthogonalization (gramOrthogonalizer on tfjs-backend-wasm) timed in headless Chromium,
by wasm thread count. Needs Chromium (Debian: apt-get install -y chromium).
Writes bench-results/browser-<time>.json.

Options:
  --threads LIST            comma-separated thread counts to ask for, or default (default 1,2)
  --override-threads LIST   thread counts for enableWasmThreadsInBrowser, or none (default 2)
  --layers N                GPT-2 layers to orthogonalize (default 12)
  --runs N                  timed runs (default 1)
  --kernels LIST            gram and/or plain (default gram)
  --matmul-runs N           timed 1024³ matmuls (default 7)
  --chromium PATH           the browser binary (default /usr/bin/chromium)
  -h, --help                this text
`;

// Parsed first, so that --help or a wrong flag never starts a measurement.
const args = commandLine({ usage: USAGE, strings: ['threads', 'override-threads', 'layers', 'runs', 'kernels', 'matmul-runs', 'chromium'] });

const WASM_TARGET = 2.5;
const MATMUL_N = 1024;

/** One page to open: how it is served and what it is asked. */
interface Job {
  readonly label: string;
  readonly isolated: boolean;
  readonly config: PageConfig;
}

const here = dirname(fileURLToPath(import.meta.url));

function gflops(ms: number): number {
  return (2 * MATMUL_N ** 3) / ms / 1e6;
}

async function main(): Promise<void> {
  const executablePath = args['chromium'] ?? DEFAULT_CHROMIUM;
  const layers = Number(args['layers'] ?? 12);
  const runs = Number(args['runs'] ?? 1);
  const matmulRuns = Number(args['matmul-runs'] ?? 7);
  const kernelList = (args['kernels'] ?? 'gram').split(',');
  const kernels = kernelList.filter((k): k is BrowserKernel => k === 'gram' || k === 'plain');
  if (kernels.length !== kernelList.length) throw new Error(`--kernels takes gram and/or plain; got ${kernelList.join(',')}`);
  const threadList = (args['threads'] ?? '1,2').split(',').map((t) => (t === 'default' ? null : Number(t)));
  const overrideArgument = args['override-threads'] ?? '2';
  const overrideList = overrideArgument === 'none' ? [] : overrideArgument.split(',').map(Number);
  const probe = { layers: 0, runs: 0, matmulRuns, kernels };
  const measure = { layers, runs, matmulRuns, kernels };
  const jobs: Job[] = [];
  if (!threadList.includes(null)) jobs.push({ label: 'isolated, default threads', isolated: true, config: { threads: null, libraryThreads: null, ...probe } });
  jobs.push({ label: 'not isolated, default threads', isolated: false, config: { threads: null, libraryThreads: null, ...probe } });
  for (const threads of threadList) jobs.push({ label: `isolated, setThreadsCount(${threads ?? '—'})`, isolated: true, config: { threads, libraryThreads: null, ...measure } });
  for (const threads of overrideList) {
    jobs.push({ label: `isolated, enableWasmThreadsInBrowser({ threads: ${threads} })`, isolated: true, config: { threads: null, libraryThreads: threads, ...measure } });
  }

  const machine = machineInfo();
  printMachine(machine);
  const bundle = await bundlePage(join(here, 'page.ts'));
  const server = await servePage(bundle);
  const browser = await launchChromium(executablePath);
  const chromiumVersion = browser.version();
  console.log(`Chromium ${chromiumVersion} (${executablePath}, headless, driven by playwright-core ${playwrightVersion()}); page bundle ${(bundle.code.length / 1e6).toFixed(1)} MB, esbuild ${esbuildVersion}`);
  const reference = (PYTORCH_MUON_STEP_S * layers) / 12;
  console.log(`GPT-2-small set: ${layers} × [768×2304, 768×768, 768×3072, 3072×768], kernels ${kernels.join(', ')}, ${runs} run(s); PyTorch reference ${reference.toFixed(2)} s\n`);

  const rows: Record<string, string | number | boolean | null>[] = [];
  const pages: (PageResult & { label: string; isolated: boolean; wasmFiles: string[] })[] = [];
  try {
    for (const job of jobs) {
      console.log(`${job.label}:`);
      server.served.length = 0;
      const result = (await callPage(browser, server.origin, { label: job.label, isolated: job.isolated, entry: 'muonBench', config: job.config })) as PageResult;
      pages.push({ label: job.label, isolated: job.isolated, wasmFiles: [...server.served], ...result });
      const base = {
        page: job.label,
        crossOriginIsolated: result.crossOriginIsolated,
        wasmFile: server.served.join(', '),
        threadsRequested: result.libraryThreads ?? result.threadsRequested ?? 'default',
        threadsObtained: result.threadsObtained,
        matmulGflops: Number(gflops(median(result.matmulMs)).toFixed(1)),
      };
      if (result.sets.length === 0) rows.push({ ...base, kernel: null, layers: 0, runs: 0, medianSeconds: null, pytorchRatio: null, met: null });
      for (const set of result.sets) {
        const seconds = median(set.seconds);
        const ratio = seconds / reference;
        rows.push({ ...base, kernel: set.kernel, layers, runs: set.seconds.length, medianSeconds: Number(seconds.toFixed(2)), orthogonalityError: Number(set.orthogonalityError.toFixed(4)), pytorchRatio: Number(ratio.toFixed(2)), met: ratio <= WASM_TARGET ? 'yes' : 'no' });
      }
    }
  } finally {
    await browser.close();
    await server.close();
  }

  console.log(`\n| page | crossOriginIsolated | wasm binary | threads requested | threads obtained | matmul ${MATMUL_N}³ GFLOP/s | kernel | ${layers}-layer set, s | vs PyTorch ${reference.toFixed(2)} s | ≤ ${WASM_TARGET}× |`);
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const row of rows) {
    const cells = [row.page, row.crossOriginIsolated, row.wasmFile, row.threadsRequested, row.threadsObtained, row.matmulGflops, row.kernel ?? '—', row.medianSeconds ?? '—', row.pytorchRatio === null ? '—' : `${row.pytorchRatio}×`, row.met ?? '—'];
    console.log(`| ${cells.join(' | ')} |`);
  }
  console.log(`navigator.hardwareConcurrency ${pages[0]?.hardwareConcurrency}; ${pages[0]?.userAgent}`);

  mkdirSync('bench-results', { recursive: true });
  const file = `bench-results/browser-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
  const result = { benchmark: 'browser', chromium: chromiumVersion, executablePath, layers, runs, kernels, matmulN: MATMUL_N, machine, pytorchMuonStepSeconds: PYTORCH_MUON_STEP_S, target: WASM_TARGET, rows, pages };
  writeFileSync(file, JSON.stringify(result, null, 2));
  console.log(`\nwritten: ${file}`);
}

await main();
