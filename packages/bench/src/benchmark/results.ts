import type { Stat } from './stats.js';
import type { TaskData } from './task.js';

/** Bumped whenever the shape of results.json changes. */
export const RESULTS_SCHEMA_VERSION = 1;

/** One learning rate tried on the held-out split. */
export interface GridPoint {
  learningRate: number;
  /** Validation loss after the grid budget (null when diverged). */
  validationLoss: number | null;
  diverged: boolean;
}

/** One seed of one optimizer on one model. */
export interface RunResult {
  seed: number;
  finalTrainLoss: number;
  testLoss: number;
  testAccuracy: number;
  stepsToTarget: number | null;
  /** Seconds of training steps (evaluation excluded). */
  wallSeconds: number;
  optimizerSeconds: number;
  /** optimizerSeconds / wallSeconds. */
  optimizerShare: number;
  diverged: boolean;
  /** Per-step training loss. */
  losses: number[];
  /** Per-step cumulative wall-clock seconds. */
  times: number[];
}

/** One optimizer on one model: the lr search, each seed, and the summary over seeds. */
export interface OptimizerResult {
  kind: string;
  label: string;
  hyperParameters: Record<string, number | string | boolean>;
  grid: GridPoint[];
  learningRate: number;
  /** The AdamW-group lr inside the Muon hybrid, when there is one. */
  auxLearningRate: number | null;
  runs: RunResult[];
  summary: {
    finalTrainLoss: Stat;
    testLoss: Stat;
    testAccuracy: Stat;
    stepsToTarget: Stat;
    /** Seeds that reached the target loss. */
    reachedTarget: number;
    wallSeconds: Stat;
    optimizerShare: Stat;
    /** Mean wall time relative to SGD's on the same model (null without SGD). */
    relativeTime: number | null;
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
  gridSteps: number;
  /** The loss "steps to target" refers to, and how it was chosen. */
  targetLoss: number;
  targetRule: string;
  /** Muon's steps to target / AdamW's (below 1: Muon needs fewer), when both ran. */
  muonToAdamwStepRatio: number | null;
  optimizers: OptimizerResult[];
}

/** The whole results.json. */
export interface BenchResults {
  schemaVersion: number;
  tool: string;
  createdAt: string;
  command: string;
  machine: { cpu: string; cores: number; memoryGiB: number; node: string; platform: string; backend: string; simd: boolean | null };
  config: {
    mode: 'default' | 'full';
    models: string[];
    optimizers: string[];
    seeds: number[];
    epochs: Record<string, number>;
    gridFraction: number;
    lrSelection: string;
  };
  totalSeconds: number;
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
    ['config', 'object'], ['totalSeconds', 'number'], ['models', 'array']] as const) need(value, k, t, 'results');
  const models = Array.isArray(value['models']) ? value['models'] : [];
  models.forEach((m: unknown, i) => {
    const where = `models[${i}]`;
    if (!isObject(m)) return void problems.push(`${where} should be an object`);
    for (const [k, t] of [['id', 'string'], ['title', 'string'], ['parameters', 'number'], ['data', 'object'], ['steps', 'number'],
      ['targetLoss', 'number'], ['optimizers', 'array']] as const) need(m, k, t, where);
    const optimizers = Array.isArray(m['optimizers']) ? m['optimizers'] : [];
    optimizers.forEach((o: unknown, j) => {
      const w = `${where}.optimizers[${j}]`;
      if (!isObject(o)) return void problems.push(`${w} should be an object`);
      for (const [k, t] of [['kind', 'string'], ['label', 'string'], ['grid', 'array'], ['learningRate', 'number'],
        ['runs', 'array'], ['summary', 'object']] as const) need(o, k, t, w);
      const runs = Array.isArray(o['runs']) ? o['runs'] : [];
      runs.forEach((r: unknown, s) => {
        const wr = `${w}.runs[${s}]`;
        if (!isObject(r)) return void problems.push(`${wr} should be an object`);
        for (const [k, t] of [['seed', 'number'], ['finalTrainLoss', 'number'], ['testAccuracy', 'number'], ['wallSeconds', 'number'],
          ['optimizerShare', 'number'], ['diverged', 'boolean'], ['losses', 'array'], ['times', 'array']] as const) need(r, k, t, wr);
        if (Array.isArray(r['losses']) && Array.isArray(r['times']) && r['losses'].length !== r['times'].length) {
          problems.push(`${wr}: losses and times differ in length`);
        }
      });
    });
  });
  return problems;
}
