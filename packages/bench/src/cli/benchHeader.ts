import type { BenchPlan } from '../benchmark/protocol/benchPlan.js';
import { optimizerSpec } from '../benchmark/protocol/optimizers.js';

/**
 * Seconds per training step on a 2-core EPYC (wasm, SIMD, Muon's native kernel), with the
 * evaluation at each run's end spread over its steps: rough, for the up-front estimate only.
 */
const SECONDS_PER_STEP: Record<string, number> = { mlp: 0.03, convnet: 0.14, transformer: 0.32, 'fashion-mlp': 0.03, 'fashion-convnet': 0.14, 'wide-mlp': 0.08 };

/** Runs of one search: its 5 grid points and, typically, one extension past an edge. */
const RUNS_PER_SEARCH = 6;

/**
 * The up-front estimate of a run's seconds on idle cores: per model, the measured runs (every
 * optimizer × seed at the full budget) and the searches (`RUNS_PER_SEARCH` runs at the tuning
 * fraction each): every optimizer's learning rate, unless `--chosen-lr` gives it, then its other
 * tuned hyper-parameters (Sophia's ρ). AdamW's search also serves the hybrids' AdamW groups.
 */
export function estimateSeconds(plan: BenchPlan, stepsPerEpoch: Readonly<Record<string, number>>, chosen: Readonly<Record<string, number>> = {}): number {
  const searches = plan.optimizers.reduce((n, kind) => n + (chosen[kind] === undefined ? 1 : 0) + (optimizerSpec(kind).tunedAfter?.length ?? 0), 0);
  return plan.models.reduce((total, id) => {
    const steps = (plan.epochs[id] ?? 1) * (stepsPerEpoch[id] ?? 0);
    const runSteps = steps * (plan.seeds.length * plan.optimizers.length + RUNS_PER_SEARCH * searches * plan.protocol.tuneFraction);
    return total + runSteps * (SECONDS_PER_STEP[id] ?? 0.1);
  }, 0);
}

/** What `bench` prints before it starts: the plan, how it tunes (what `--chosen-lr` skips), and the time to expect. */
export function benchHeader(plan: BenchPlan, options: {
  backend: string;
  simd: boolean | undefined;
  kernels: string;
  estimateSeconds: number;
  chosen?: Readonly<Record<string, number>>;
  /** What a run of this plan measured, when known (e.g. the default run's minutes of CPU). */
  measured?: string;
}): string[] {
  const chosen = Object.entries(options.chosen ?? {});
  const tuned = plan.optimizers.filter((kind) => options.chosen?.[kind] === undefined);
  const given = chosen.length === 0
    ? ''
    : ` Learning rates given by --chosen-lr, not searched: ${chosen.map(([kind, lr]) => `${kind} ${lr}`).join(', ')}${options.chosen?.['adamw'] === undefined ? '' : " (adamw's is also what the hybrids' AdamW half is tuned as a factor of)"}.`;
  const searching = tuned.length === 0
    ? 'No learning rate is searched'
    : `${tuned.join(', ')} first tune${tuned.length === 1 ? 's' : ''} the peak lr (Sophia then ρ, a hybrid its AdamW half's rate) on a held-out split, runs of ${plan.protocol.tuneFraction} of the budget, ` +
      `grids extended past an edge (at most ${plan.protocol.maxExtensions} points)`;
  const minutes = Math.max(1, Math.round(options.estimateSeconds / 60));
  return [
    `muon-tfjs bench (${plan.mode}): models ${plan.models.join(', ')}; optimizers ${plan.optimizers.join(', ')}; seeds ${plan.seeds.join(', ')}.`,
    `Backend ${options.backend}${options.simd === true ? ' (SIMD)' : ''}; ${options.kernels}. ${searching}.${given}`,
    `Expected time: about ${minutes} min on 2 idle cores${chosen.length === 0 ? '' : ' (without the searches --chosen-lr skips)'}${options.measured === undefined ? '' : ` (${options.measured})`}.`,
  ];
}
