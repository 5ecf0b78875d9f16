/**
 * `npm run bench:workers`: worker threads that share the CPU. Each of N worker threads loads its own
 * copy of the native addon (its own engine, pool and scratch: issue 22) and orthogonalizes the wide
 * MLP's Muon matrices (784×512 and 512×512, the 5-step `jordan` schedule, float32, the plans the
 * library's planner gives the native kernel) again and again, all at once, each call following the
 * machine's load as it does by default. Per worker count in `--workers`, the median milliseconds of
 * a call in each worker, the calls' threads (the team of a product, and how many threads ran whole
 * matrices side by side) and the throughput, calls per second over all workers. The issue this
 * answers: a program that runs optimizers in several workers makes its own busy machine, and each
 * worker's kernel sees the others' threads as its own process's; the throughput should hold as
 * workers are added, each call slowing in proportion.
 *
 *   npm run bench:workers [-- --workers 1,2,4 --calls 30]
 *
 * Results go to bench-results/workers-<time>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import { NATIVE_ALGORITHM_CODES, NATIVE_NORMALIZATION_CODES, NATIVE_PRECISION_CODES, loadNativeAddon, nativeCapabilities, planOrthogonalization, resolveNewtonSchulz } from 'muon-tfjs';
import { commandLine, machineInfo, median, printMachine } from 'muon-tfjs-harness';

const USAGE = `Usage: npm run bench:workers [-- options]

The native Newton–Schulz of the wide MLP's Muon matrices called at once from several worker
threads, each with its own copy of the addon following the load. Writes
bench-results/workers-<time>.json.

Options:
  --workers LIST   comma-separated worker counts, each run in turn (default 1,2,4)
  --calls N        calls per worker, the first 3 untimed (default 30)
  -h, --help       this text
`;

const args = commandLine({ usage: USAGE, strings: ['workers', 'calls'] });
const counts = (args.workers ?? '1,2,4').split(',').map(Number);
if (!counts.every((n) => Number.isInteger(n) && n >= 1)) throw new Error(`--workers takes counts ≥ 1, e.g. 1,2,4; got '${args.workers ?? ''}'`);
const calls = Number(args.calls ?? 30);
if (!Number.isInteger(calls) || calls < 4) throw new Error(`--calls must be an integer ≥ 4 (3 are untimed), got '${args.calls ?? ''}'`);

const status = loadNativeAddon();
if (!status.available) throw new Error(`bench:workers needs the native addon: ${status.reason}`);
const { addon, path: addonPath } = status;

/** The matrices, [fanIn, fanOut] as a Dense kernel holds them. */
const MATRICES = [
  [784, 512],
  [512, 512],
] as const;
const schedule = resolveNewtonSchulz();
const capabilities = nativeCapabilities();
const plans = MATRICES.map(([rows, cols]) => planOrthogonalization(rows, cols, schedule, capabilities));
/** The addon's `orthogonalize` options but the inputs, as the library's native orthogonalizer builds them. */
const planned = {
  shapes: Int32Array.from(MATRICES.flat()),
  plans: Int32Array.from(plans.flatMap((p) => [NATIVE_ALGORITHM_CODES[p.algorithm], p.transposed ? 1 : 0])),
  flops: Float64Array.from(plans, (p) => p.flops),
  coefficients: Float64Array.from(schedule.iterations.flat()),
  normalizationScale: schedule.normalizationScale,
  eps: schedule.eps,
  restartAfter: Int32Array.from(schedule.restartAfter),
  precision: NATIVE_PRECISION_CODES.float32,
  normalization: NATIVE_NORMALIZATION_CODES[schedule.normalization],
};

/** What a worker reports: each timed call's milliseconds and threading. */
interface WorkerReport {
  readonly ms: number[];
  readonly threads: string[];
}

// The worker's code, plain CommonJS so that it needs no TypeScript loader: it takes the addon's
// path and the options, waits until every worker is ready, then calls.
const WORKER_CODE = `
const { parentPort, workerData } = require('node:worker_threads');
const addon = require(workerData.path);
const { planned, matrices, calls, seed } = workerData;
let state = seed + 1;
const random = () => { state = (Math.imul(state, 1103515245) + 12345) >>> 0; return state / 2 ** 32 - 0.5; };
const inputs = matrices.map(([rows, cols]) => Float32Array.from({ length: rows * cols }, random));
const start = new Int32Array(workerData.start);
Atomics.add(start, 1, 1);
Atomics.wait(start, 0, 0);
const ms = [], threads = [];
for (let i = 0; i < calls; ++i) {
  const t = process.hrtime.bigint();
  addon.orthogonalize({ inputs, ...planned });
  if (i < 3) continue;
  ms.push(Number(process.hrtime.bigint() - t) / 1e6);
  const last = addon.threading().lastCall;
  threads.push(last.threads + ' thread' + (last.threads === 1 ? '' : 's') + (last.sideBySide > 1 ? ', side by side on ' + last.sideBySide : ''));
}
parentPort.postMessage({ ms, threads });
`;

/** Runs `count` workers at once, released together, and returns their reports. */
async function runWorkers(count: number): Promise<WorkerReport[]> {
  const start = new SharedArrayBuffer(8);
  const flags = new Int32Array(start);
  const reports = Array.from({ length: count }, (_, seed) =>
    new Promise<WorkerReport>((resolve, reject) => {
      const worker = new Worker(WORKER_CODE, { eval: true, workerData: { path: addonPath, planned, matrices: MATRICES, calls, seed, start } });
      worker.once('message', (report: WorkerReport) => {
        resolve(report);
        void worker.terminate();
      });
      worker.once('error', reject);
    }),
  );
  while (Atomics.load(flags, 1) < count) await new Promise((resolve) => setTimeout(resolve, 5));
  Atomics.store(flags, 0, 1);
  Atomics.notify(flags, 0);
  return Promise.all(reports);
}

const tally = (items: readonly string[]): string =>
  [...new Set(items)].map((item) => `${item} (${items.filter((x) => x === item).length})`).join(', ');

const machine = machineInfo();
printMachine(machine);
const load = loadavg();
console.log(`${addon.info().threads} threads per addon copy, following the load; matrices ${MATRICES.map(([r, c], i) => `${r}×${c} (${plans[i]?.algorithm})`).join(', ')}, ${schedule.steps} steps; ${calls} calls per worker, the first 3 untimed; load average ${load.map((x) => x.toFixed(2)).join(' ')}`);
console.log('workers  median ms per call (each worker)        calls per second, all workers   threads of the calls');
const results = [];
for (const count of counts) {
  const reports = await runWorkers(count);
  const medians = reports.map((r) => median(r.ms));
  const throughput = medians.reduce((sum, ms) => sum + 1000 / ms, 0);
  const threads = tally(reports.flatMap((r) => r.threads));
  console.log(`${String(count).padStart(7)}  ${medians.map((ms) => ms.toFixed(1)).join(', ').padEnd(40)} ${throughput.toFixed(1).padStart(31)}   ${threads}`);
  results.push({ workers: count, medianMs: medians, callsPerSecond: throughput, threads });
}
mkdirSync('bench-results', { recursive: true });
const file = `bench-results/workers-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
writeFileSync(file, JSON.stringify({ benchmark: 'workers', machine, loadAverage: load, loadAverageAtEnd: loadavg(), calls, matrices: MATRICES, plans, results }, null, 2));
console.log(`written: ${file}`);
