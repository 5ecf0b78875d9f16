import { COEFFICIENT_PRESETS, type CoefficientPreset } from 'muon-tfjs';

/** The training problems the playground offers. */
export const TASK_IDS = ['toy', 'mlp', 'convnet', 'transformer'] as const;
export type TaskId = (typeof TASK_IDS)[number];

/** The 2-D toy data sets (TensorFlow Playground's classification problems). */
export const TOY_DATASETS = ['spirals', 'circles', 'xor'] as const;
export type ToyDataset = (typeof TOY_DATASETS)[number];

/** `auto` tries WebGPU, then WebGL, then wasm. */
export const BACKEND_CHOICES = ['auto', 'webgpu', 'webgl', 'wasm'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

/** The optimizers the playground trains side by side (`muon` is the hybrid `muonWithAdamW`). */
export const OPTIMIZER_IDS = ['muon', 'adamw', 'lion'] as const;
export type OptimizerId = (typeof OPTIMIZER_IDS)[number];

/** Learning-rate schedules over the run's `steps`: the multiplier of the base rate at progress t ∈ [0, 1]. */
export const SCHEDULES = ['constant', 'linear', 'cosine'] as const;
export type Schedule = (typeof SCHEDULES)[number];

/** Learning rate and schedule of one optimizer (for `muon`, the lr of its Muon group). */
export interface OptimizerSettings {
  readonly lr: number;
  readonly schedule: Schedule;
}

/** Every setting of the page; all of it lives in the URL's query string. */
export interface PlaygroundState {
  readonly task: TaskId;
  readonly dataset: ToyDataset;
  readonly backend: BackendChoice;
  /**
   * wasm threads: 0 = one per core (when the page is cross-origin isolated), else this many. The
   * default is 1: on the playground's small models every op is short, and handing each to a thread
   * pool cost more than it saved (`npm run bench:playground`: 3–8× slower steps with one thread per
   * core on a 2-core machine, whose other core was busy).
   */
  readonly threads: number;
  readonly optimizers: readonly OptimizerId[];
  /** Training stops after this many steps; the schedules run over them. */
  readonly steps: number;
  readonly autostart: boolean;
  readonly seed: number;
  readonly settings: Readonly<Record<OptimizerId, OptimizerSettings>>;
  /** Newton–Schulz preset and step count of the spectra view (and of Muon's next run). */
  readonly preset: CoefficientPreset;
  readonly nsSteps: number;
  /** Original name (`layer/kernel`) of the weight whose spectra are shown; '' picks the task's default. */
  readonly layer: string;
  /** Spectra are recomputed every this many steps (they read the layer back to the CPU). */
  readonly spectrumEvery: number;
}

const RATES = (muon: number, adamw: number, lion: number): Readonly<Record<OptimizerId, OptimizerSettings>> => ({
  muon: { lr: muon, schedule: 'linear' },
  adamw: { lr: adamw, schedule: 'linear' },
  lion: { lr: lion, schedule: 'linear' },
});

/**
 * Default learning rates per task: on the toy problem (a 2-32-32-2 MLP, a few hundred steps) rates
 * about 5× the usual ones train fastest (measured on circles and XOR, 300 steps); the MNIST and
 * Moby Dick models keep the benchmark's usual values (Muon 0.02, AdamW 3e-3, Lion 3e-4).
 */
export const TASK_DEFAULT_SETTINGS: Readonly<Record<TaskId, Readonly<Record<OptimizerId, OptimizerSettings>>>> = {
  toy: RATES(0.1, 0.03, 3e-3),
  mlp: RATES(0.02, 3e-3, 3e-4),
  convnet: RATES(0.02, 3e-3, 3e-4),
  transformer: RATES(0.02, 3e-3, 3e-4),
};

/** The page without a query string: the toy circles problem, all optimizers. */
export const DEFAULT_STATE: PlaygroundState = {
  task: 'toy',
  dataset: 'circles',
  backend: 'auto',
  threads: 1,
  optimizers: ['muon', 'adamw', 'lion'],
  steps: 500,
  autostart: false,
  seed: 1,
  settings: TASK_DEFAULT_SETTINGS.toy,
  preset: 'jordan',
  nsSteps: 5,
  layer: '',
  spectrumEvery: 10,
};

function oneOf<T extends string>(value: string | null, allowed: readonly T[], fallback: T): T {
  return value !== null && (allowed as readonly string[]).includes(value) ? (value as T) : fallback;
}

function positive(value: string | null, fallback: number, integer: boolean): number {
  const n = value === null ? Number.NaN : Number(value);
  return Number.isFinite(n) && n > 0 && (!integer || Number.isInteger(n)) ? n : fallback;
}

/**
 * Reads the state from a query string (`location.search`). Unknown or malformed values fall back
 * to the defaults (learning rates: the task's), so a hand-edited link still opens a working page.
 *
 * @example
 * parseState('?task=mlp&optimizers=muon,adamw&steps=100&autostart=1').optimizers; // ['muon', 'adamw']
 */
export function parseState(search: string): PlaygroundState {
  const q = new URLSearchParams(search);
  const d = DEFAULT_STATE;
  const task = oneOf(q.get('task'), TASK_IDS, d.task);
  const defaults = TASK_DEFAULT_SETTINGS[task];
  const listed = (q.get('optimizers') ?? '').split(',').filter((o): o is OptimizerId => (OPTIMIZER_IDS as readonly string[]).includes(o));
  const settings = Object.fromEntries(OPTIMIZER_IDS.map((id) => [id, {
    lr: positive(q.get(`${id}Lr`), defaults[id].lr, false),
    schedule: oneOf(q.get(`${id}Schedule`), SCHEDULES, defaults[id].schedule),
  }])) as Record<OptimizerId, OptimizerSettings>;
  const preset = oneOf(q.get('preset'), COEFFICIENT_PRESETS, d.preset);
  return {
    task,
    dataset: oneOf(q.get('dataset'), TOY_DATASETS, d.dataset),
    backend: oneOf(q.get('backend'), BACKEND_CHOICES, d.backend),
    threads: q.get('threads') === '0' ? 0 : positive(q.get('threads'), d.threads, true),
    optimizers: listed.length > 0 ? [...new Set(listed)] : d.optimizers,
    steps: positive(q.get('steps'), d.steps, true),
    autostart: q.get('autostart') === '1',
    seed: positive(q.get('seed'), d.seed, true),
    settings,
    preset,
    nsSteps: positive(q.get('nsSteps'), d.nsSteps, true),
    layer: q.get('layer') ?? d.layer,
    spectrumEvery: positive(q.get('spectrumEvery'), d.spectrumEvery, true),
  };
}

/**
 * Writes the state as a query string (every setting, defaults included, so a shared link keeps
 * meaning the same run when the defaults change). `parseState(serializeState(s))` equals `s`.
 */
export function serializeState(state: PlaygroundState): string {
  const q = new URLSearchParams({
    task: state.task,
    dataset: state.dataset,
    backend: state.backend,
    threads: String(state.threads),
    optimizers: state.optimizers.join(','),
    steps: String(state.steps),
    seed: String(state.seed),
  });
  for (const id of OPTIMIZER_IDS) {
    q.set(`${id}Lr`, String(state.settings[id].lr));
    q.set(`${id}Schedule`, state.settings[id].schedule);
  }
  q.set('preset', state.preset);
  q.set('nsSteps', String(state.nsSteps));
  if (state.layer !== '') q.set('layer', state.layer);
  q.set('spectrumEvery', String(state.spectrumEvery));
  if (state.autostart) q.set('autostart', '1');
  return `?${q.toString()}`;
}
