import type { SearchResult } from '../protocol/gridSearch.js';
import type { ScheduleSpec } from '../protocol/runSchedule.js';
import type { Stat } from '../protocol/stats.js';
import type { BenchMode } from '../protocol/tuningProtocol.js';
import type { TaskData } from 'muon-tfjs-tasks';

/** Bumped whenever the shape of results.json changes (2: the re-tuning protocol of issue 12). */
export const RESULTS_SCHEMA_VERSION = 2;

/** One seed of one optimizer on one model. */
export interface RunResult {
  seed: number;
  finalTrainLoss: number;
  testLoss: number;
  testAccuracy: number;
  stepsToTarget: number | null;
  /** Seconds of training steps until the step that reached the target (null: not reached). */
  secondsToTarget: number | null;
  /** Seconds of training steps (evaluation excluded). */
  wallSeconds: number;
  optimizerSeconds: number;
  /** optimizerSeconds / wallSeconds. */
  optimizerShare: number;
  diverged: boolean;
  /** Per-step training loss. */
  losses: number[];
  /** Per-step cumulative seconds of training steps. */
  times: number[];
}

/** One optimizer on one model: the searches, each seed, and the summary over seeds. */
export interface OptimizerResult {
  kind: string;
  label: string;
  hyperParameters: Record<string, number | string | boolean>;
  /**
   * The learning-rate search first, then one per other tuned hyper-parameter, in order; without
   * the learning-rate search when the rate was given (`--chosen-lr`, from an earlier search).
   */
  searches: SearchResult[];
  /** The chosen peak learning rate. */
  learningRate: number;
  /** The chosen values of the other tuned hyper-parameters (empty when none). */
  tuned: Record<string, number>;
  /** The AdamW-group lr inside the Muon hybrid, when there is one. */
  auxLearningRate: number | null;
  runs: RunResult[];
  summary: {
    finalTrainLoss: Stat;
    testLoss: Stat;
    testAccuracy: Stat;
    stepsToTarget: Stat;
    /** Over the seeds that reached the target. */
    secondsToTarget: Stat;
    /** Seeds that reached the target loss. */
    reachedTarget: number;
    wallSeconds: Stat;
    optimizerShare: Stat;
  };
}

/** Everything measured on one model. */
export interface ModelResult {
  id: string;
  title: string;
  modelSummary: string;
  parameters: number;
  data: TaskData;
  batchSize: number;
  stepsPerEpoch: number;
  epochs: number;
  steps: number;
  /** Steps of each tuning run (a fraction ≥ ¼ of `steps`, its schedule compressed to it). */
  tuneSteps: number;
  /** The learning-rate schedule of every optimizer on this model, and in words. */
  schedule: ScheduleSpec;
  scheduleDescription: string;
  /** The loss "steps to target" refers to, and how it was chosen. */
  targetLoss: number;
  targetRule: string;
  /** Muon's steps to target / AdamW's (below 1: Muon needs fewer), when both ran and reached it. */
  muonToAdamwStepRatio: number | null;
  /** The same for the seconds of training to the target. */
  muonToAdamwTimeRatio: number | null;
  optimizers: OptimizerResult[];
}

/** The whole results.json (see `mergeResults` for `parts`). */
export interface BenchResults {
  schemaVersion: number;
  tool: string;
  createdAt: string;
  command: string;
  machine: {
    cpu: string;
    cores: number;
    memoryGiB: number;
    node: string;
    platform: string;
    backend: string;
    simd: boolean | null;
    /**
     * The 1, 5 and 15-minute load averages (`os.loadavg()`) when the run started and when it ended:
     * above `cores`, other work shared the CPU and the seconds are inflated. Absent in results
     * written before it was recorded.
     */
    loadAverage?: { start: number[]; end: number[] };
    /** The kernels the steps ran: the TF.js backend and its threads, Muon's orthogonalization and its threads (absent before it was recorded). */
    kernels?: string;
  };
  config: {
    mode: BenchMode;
    models: string[];
    optimizers: string[];
    seeds: number[];
    epochs: Record<string, number>;
    /** Tuning runs last this fraction of the measured run. */
    tuneFraction: number;
    /** At most this many points are added to a grid whose choice sits at an edge. */
    maxExtensions: number;
    lrSelection: string;
  };
  totalSeconds: number;
  /**
   * CPU seconds of the process (user + system) over the whole run: on a shared, loaded machine,
   * closer than `totalSeconds` to the wall time the run takes on idle cores.
   */
  totalCpuSeconds: number;
  /** For results merged from several processes: each part's command and cost. */
  parts?: { command: string; createdAt: string; totalSeconds: number; totalCpuSeconds: number }[];
  models: ModelResult[];
}

/**
 * Checks that a parsed results.json has the structure above; returns the problems found (empty
 * when valid). Used by tests and by anyone reading results from another version.
 */
export function validateResults(value: unknown): string[] {
  const problems: string[] = [];
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const need = (o: Record<string, unknown>, key: string, type: 'number' | 'string' | 'object' | 'array' | 'boolean', where: string): void => {
    const v = o[key];
    // JSON has no NaN/Infinity: a number field may be null where the value was not finite.
    const ok = type === 'array' ? Array.isArray(v) : type === 'object' ? isObject(v) : typeof v === type || (type === 'number' && v === null);
    if (!ok) problems.push(`${where}.${key} should be ${type}`);
  };
  if (!isObject(value)) return ['results should be an object'];
  if (value['schemaVersion'] !== RESULTS_SCHEMA_VERSION) problems.push(`schemaVersion should be ${RESULTS_SCHEMA_VERSION}`);
  for (const [k, t] of [['tool', 'string'], ['createdAt', 'string'], ['command', 'string'], ['machine', 'object'],
    ['config', 'object'], ['totalSeconds', 'number'], ['totalCpuSeconds', 'number'], ['models', 'array']] as const) need(value, k, t, 'results');
  const models = Array.isArray(value['models']) ? value['models'] : [];
  models.forEach((m: unknown, i) => {
    const where = `models[${i}]`;
    if (!isObject(m)) return void problems.push(`${where} should be an object`);
    for (const [k, t] of [['id', 'string'], ['title', 'string'], ['parameters', 'number'], ['data', 'object'], ['steps', 'number'],
      ['tuneSteps', 'number'], ['schedule', 'object'], ['targetLoss', 'number'], ['optimizers', 'array']] as const) need(m, k, t, where);
    const optimizers = Array.isArray(m['optimizers']) ? m['optimizers'] : [];
    optimizers.forEach((o: unknown, j) => {
      const w = `${where}.optimizers[${j}]`;
      if (!isObject(o)) return void problems.push(`${w} should be an object`);
      for (const [k, t] of [['kind', 'string'], ['label', 'string'], ['searches', 'array'], ['learningRate', 'number'],
        ['tuned', 'object'], ['runs', 'array'], ['summary', 'object']] as const) need(o, k, t, w);
      const searches = Array.isArray(o['searches']) ? o['searches'] : [];
      searches.forEach((g: unknown, s) => {
        const wg = `${w}.searches[${s}]`;
        if (!isObject(g)) return void problems.push(`${wg} should be an object`);
        for (const [k, t] of [['parameter', 'string'], ['points', 'array'], ['chosen', 'number'], ['extensions', 'number'],
          ['capped', 'boolean']] as const) need(g, k, t, wg);
      });
      const runs = Array.isArray(o['runs']) ? o['runs'] : [];
      runs.forEach((r: unknown, s) => {
        const wr = `${w}.runs[${s}]`;
        if (!isObject(r)) return void problems.push(`${wr} should be an object`);
        for (const [k, t] of [['seed', 'number'], ['finalTrainLoss', 'number'], ['testAccuracy', 'number'], ['secondsToTarget', 'number'], ['wallSeconds', 'number'],
          ['optimizerShare', 'number'], ['diverged', 'boolean'], ['losses', 'array'], ['times', 'array']] as const) need(r, k, t, wr);
        if (Array.isArray(r['losses']) && Array.isArray(r['times']) && r['losses'].length !== r['times'].length) {
          problems.push(`${wr}: losses and times differ in length`);
        }
      });
    });
  });
  return problems;
}
