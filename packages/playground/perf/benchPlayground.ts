/**
 * `npm run bench:playground`: steps per second of each playground task and optimizer on wasm in
 * headless Chromium (Debian's `chromium`), through the page's automation contract.
 *
 * Each page trains every optimizer of the page (OPTIMIZER_IDS: Muon, AdamW, Lion, Dion2) side by
 * side on the same batches (so they share the machine's state step by step), with spectra off
 * (they are diagnostics, computed outside the timed step anyway). Per page: the median over steps
 * after a warm-up of the whole training step and of `applyGradients`; over `--runs` pages: the
 * median of those. The machine is shared and noisy: quote medians of several runs.
 *
 *   npm run bench:playground [-- --runs 3 --tasks toy,mlp,convnet,transformer --threads 1,0 --ns-steps 5]
 *
 * `--threads`: wasm thread counts to measure (0: one per core, the page's default). `--ns-steps`:
 * Muon's Newton–Schulz iterations (the page's `nsSteps`; default 5, the page's default), for issue
 * 24's cheaper Muon (3 iterations) against the default; Dion2 keeps its own 5. Every optimizer's
 * step is also given as a ratio to AdamW's, measured on the same pages.
 *
 * Results go to bench-results/playground-<time>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { commandLine, machineInfo, median, printMachine } from 'muon-tfjs-harness';
import { openPage, startSession, waitDone } from '../e2e/openPlayground.js';
import { OPTIMIZER_IDS, TASK_IDS, type OptimizerId, type TaskId } from '../src/playgroundState.js';

const USAGE = `Usage: npm run bench:playground [-- options]

Steps per second of each playground task and optimizer on wasm, in headless Chromium.

Options:
  --runs N          pages per configuration, median reported (default 3)
  --tasks LIST      comma-separated: ${TASK_IDS.join(', ')} (default: all)
  --threads LIST    wasm thread counts to measure, 0 = one per core (default 1,0)
  --ns-steps N      Muon's Newton–Schulz iterations on every page (default 5, the page's default; Dion2 keeps its 5)
  -h, --help        this text
`;
const args = commandLine({ usage: USAGE, strings: ['runs', 'tasks', 'threads', 'ns-steps'] });

/** Steps per page, and how many first steps are warm-up (kernel compilation, allocation). */
const STEPS: Record<TaskId, number> = { toy: 100, mlp: 60, convnet: 40, transformer: 40 };
const WARMUP = 10;
/** Issue 24's goal: a Muon step (Muon's, or Dion2's: Muon on part of each matrix) costs at most this many AdamW steps. */
const GOAL = 2;
/** The optimizers the goal is about. */
const MUON_FAMILY: readonly string[] = ['muon', 'dion2'];

interface Row {
  task: TaskId;
  threads: number;
  optimizer: OptimizerId;
  stepMs: number;
  stepsPerSecond: number;
  optimizerMs: number;
  stepVsAdamW: number | null;
  optimizerVsAdamW: number | null;
  runs: number;
}

async function main(): Promise<void> {
  const runs = Number(args.runs ?? 3);
  const tasks = (args.tasks ?? TASK_IDS.join(',')).split(',') as TaskId[];
  const threadCounts = (args.threads ?? '1,0').split(',').map(Number);
  const nsSteps = Number(args['ns-steps'] ?? 5);
  if (!Number.isInteger(nsSteps) || nsSteps < 1) throw new Error(`--ns-steps must be a positive integer, got '${args['ns-steps'] ?? ''}'`);
  const machine = machineInfo();
  printMachine(machine);
  const session = await startSession();
  const rows: Row[] = [];
  const raw: Record<string, Record<string, { stepMs: number[]; optimizerMs: number[] }>[]> = {};
  try {
    for (const task of tasks) for (const threads of threadCounts) {
      const perRun: Record<OptimizerId, { step: number[]; optimizer: number[] }> = Object.fromEntries(OPTIMIZER_IDS.map((o) => [o, { step: [], optimizer: [] }])) as never;
      raw[`${task}/${threads}`] = [];
      for (let r = 0; r < runs; r++) {
        const steps = STEPS[task];
        const { page, errors } = await openPage(session, `?task=${task}&backend=wasm&threads=${threads}&optimizers=${OPTIMIZER_IDS.join(',')}&steps=${steps}&spectrumEvery=${steps + 1}&nsSteps=${nsSteps}&autostart=1`);
        const status = await waitDone(page, 600_000);
        await page.close();
        if (status.error !== null || errors.length > 0) throw new Error(`${task}: ${status.error ?? errors.join('; ')}`);
        raw[`${task}/${threads}`]?.push(status.timings as never);
        for (const o of OPTIMIZER_IDS) {
          const t = status.timings[o];
          if (t === undefined) continue;
          perRun[o].step.push(median(t.stepMs.slice(WARMUP)));
          perRun[o].optimizer.push(median(t.optimizerMs.slice(WARMUP)));
        }
        console.log(`${task}, threads ${threads || 'one per core'}, Muon ${nsSteps} NS steps, run ${r + 1}: ${OPTIMIZER_IDS.map((o) => `${o} ${perRun[o].step.at(-1)?.toFixed(1)} ms`).join(', ')}`);
      }
      const adamw = { step: median(perRun.adamw.step), optimizer: median(perRun.adamw.optimizer) };
      for (const o of OPTIMIZER_IDS) {
        const stepMs = median(perRun[o].step);
        const optimizerMs = median(perRun[o].optimizer);
        rows.push({
          task, threads, optimizer: o, stepMs: Number(stepMs.toFixed(2)), stepsPerSecond: Number((1000 / stepMs).toFixed(1)), optimizerMs: Number(optimizerMs.toFixed(2)),
          stepVsAdamW: Number((stepMs / adamw.step).toFixed(2)), optimizerVsAdamW: Number((optimizerMs / adamw.optimizer).toFixed(2)), runs,
        });
      }
    }
  } finally {
    await session.close();
  }
  console.log(`\n| task | wasm threads | optimizer | step, ms | steps/s | optimizer step, ms | step vs AdamW | optimizer step vs AdamW | ≤ ${GOAL}× |`);
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(`| ${r.task} | ${r.threads || 'per core'} | ${r.optimizer} | ${r.stepMs} | ${r.stepsPerSecond} | ${r.optimizerMs} | ${r.stepVsAdamW}× | ${r.optimizerVsAdamW}× | ${MUON_FAMILY.includes(r.optimizer) ? (r.stepVsAdamW !== null && r.stepVsAdamW <= GOAL ? 'yes' : 'no') : ''} |`);
  }
  mkdirSync('bench-results', { recursive: true });
  const file = `bench-results/playground-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
  writeFileSync(file, JSON.stringify({ benchmark: 'playground', backend: 'wasm', nsSteps, runs, steps: STEPS, warmup: WARMUP, goal: GOAL, machine, rows, raw }, null, 2));
  console.log(`\nwritten: ${file}`);
}

await main();
