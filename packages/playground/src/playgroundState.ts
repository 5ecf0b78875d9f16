import { COEFFICIENT_PRESETS, type CoefficientPreset, type OptimizerKindName, resolveCoefficients } from 'muon-tfjs';

/**
 * The presets the spectra view offers: those that normalize by ‖X‖_F, whose composed polynomial
 * p(σ) the Newton–Schulz chart draws on its σ/‖X‖_F axis (an AOL preset such as turboMuon acts on
 * diag(s)·X, whose σ depend on the whole matrix: no curve of σ alone).
 */
export const SPECTRUM_VIEW_PRESETS: readonly CoefficientPreset[] = COEFFICIENT_PRESETS.filter((name) => resolveCoefficients(name).normalization === 'frobenius');

/** The training problems the playground offers. */
export const TASK_IDS = ['toy', 'mlp', 'convnet', 'transformer'] as const;
export type TaskId = (typeof TASK_IDS)[number];

/** The 2-D toy data sets (TensorFlow Playground's classification problems). */
export const TOY_DATASETS = ['spirals', 'circles', 'xor'] as const;
export type ToyDataset = (typeof TOY_DATASETS)[number];

/** `auto` tries WebGPU, then WebGL, then wasm. */
export const BACKEND_CHOICES = ['auto', 'webgpu', 'webgl', 'wasm'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

/**
 * The optimizers the playground trains side by side: `muon` is the hybrid `muonWithAdamW`, `dion2`
 * the same hybrid with Dion2 in Muon's place (hidden kernels to Dion2, the rest to AdamW).
 */
export const OPTIMIZER_IDS = ['muon', 'adamw', 'lion', 'dion2'] as const satisfies readonly OptimizerKindName[];
export type OptimizerId = (typeof OPTIMIZER_IDS)[number];

/** Learning-rate schedules over the run's `steps`: the multiplier of the base rate at progress t ∈ [0, 1]. */
export const SCHEDULES = ['constant', 'linear', 'cosine'] as const;
export type Schedule = (typeof SCHEDULES)[number];

/** Learning rate and schedule of one optimizer (for the hybrids `muon` and `dion2`, of their Muon or Dion2 group). */
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

/** Every optimizer's base rate, each decayed linearly over the run. */
const RATES = (rates: Readonly<Record<OptimizerId, number>>): Readonly<Record<OptimizerId, OptimizerSettings>> =>
  Object.fromEntries(OPTIMIZER_IDS.map((id) => [id, { lr: rates[id], schedule: 'linear' }])) as Record<OptimizerId, OptimizerSettings>;

/**
 * Default learning rates per task: on the toy problem (a 2-32-32-2 MLP, a few hundred steps) rates
 * about 5× the usual ones train fastest (measured on circles and XOR, 300 steps); the MNIST and
 * Moby Dick models keep the benchmark's usual values (Muon 0.02, AdamW 3e-3, Lion 3e-4). Dion2's
 * is 0.05 on every task, the middle of the benchmark's grid for it (Muon's, 0.01–0.2:
 * packages/bench/src/benchmark/protocol/optimizers.ts), at which `npm run bench:dion2` runs too;
 * on the toy problem it did not gain from a larger rate as the others do (circles and XOR, 300
 * steps, one seed: held-out loss 0.015–0.017 and 0.034–0.038 at every rate from 0.02 to 0.05,
 * 0.033 and 0.049 at 0.1, 0.40 and 0.24 at 0.25).
 */
export const TASK_DEFAULT_SETTINGS: Readonly<Record<TaskId, Readonly<Record<OptimizerId, OptimizerSettings>>>> = {
  toy: RATES({ muon: 0.1, adamw: 0.03, lion: 3e-3, dion2: 0.05 }),
  mlp: RATES({ muon: 0.02, adamw: 3e-3, lion: 3e-4, dion2: 0.05 }),
  convnet: RATES({ muon: 0.02, adamw: 3e-3, lion: 3e-4, dion2: 0.05 }),
  transformer: RATES({ muon: 0.02, adamw: 3e-3, lion: 3e-4, dion2: 0.05 }),
};

/** The page without a query string: the toy circles problem, Muon, AdamW and Lion (Dion2 is one click or `optimizers=…,dion2` away). */
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

function positiveNumber(raw: string, integer: boolean): number | undefined {
  const n = Number(raw);
  return raw.trim() !== '' && Number.isFinite(n) && n > 0 && (!integer || Number.isInteger(n)) ? n : undefined;
}

/** A state read from a URL, and the URL's values it did not use, for the page to name. */
export interface ParsedState {
  readonly state: PlaygroundState;
  /** Each ignored value as `key=value (why)`, in the URL's order; unknown keys included. */
  readonly ignored: readonly string[];
}

/**
 * Reads the state from a query string (`location.search`). Unknown or malformed values fall back
 * to the defaults (learning rates: the task's), so a hand-edited link still opens a working page,
 * and are listed in `ignored`, so that the page can say which of the link's values it did not use.
 *
 * @example
 * parseStateReport('?steps=-5&optimizers=muon,sophia').ignored; // ['optimizers=sophia (…)', 'steps=-5 (…)']
 */
export function parseStateReport(search: string): ParsedState {
  const q = new URLSearchParams(search);
  const d = DEFAULT_STATE;
  const ignored: string[] = [];
  /** The parsed value of `key`, the fallback when it is absent, or the fallback and a note when `parse` refuses it. */
  const read = <T>(key: string, fallback: T, parse: (raw: string) => T | undefined, expected: string): T => {
    const raw = q.get(key);
    if (raw === null) return fallback;
    const value = parse(raw);
    if (value !== undefined) return value;
    ignored.push(`${key}=${raw} (${expected})`);
    return fallback;
  };
  const oneOf = <T extends string>(key: string, allowed: readonly T[], fallback: T): T =>
    read(key, fallback, (raw) => ((allowed as readonly string[]).includes(raw) ? (raw as T) : undefined), `not one of ${allowed.join(', ')}`);
  const positive = (key: string, fallback: number, integer: boolean): number =>
    read(key, fallback, (raw) => positiveNumber(raw, integer), integer ? 'not a positive integer' : 'not a positive number');

  const task = oneOf('task', TASK_IDS, d.task);
  const defaults = TASK_DEFAULT_SETTINGS[task];
  const named = (q.get('optimizers') ?? '').split(',').filter((o) => o !== '');
  const listed = named.filter((o): o is OptimizerId => (OPTIMIZER_IDS as readonly string[]).includes(o));
  const unknownOptimizers = named.filter((o) => !listed.includes(o as OptimizerId));
  if (unknownOptimizers.length > 0) ignored.push(`optimizers=${unknownOptimizers.join(',')} (not one of ${OPTIMIZER_IDS.join(', ')})`);
  const settings = Object.fromEntries(OPTIMIZER_IDS.map((id) => [id, {
    lr: positive(`${id}Lr`, defaults[id].lr, false),
    schedule: oneOf(`${id}Schedule`, SCHEDULES, defaults[id].schedule),
  }])) as Record<OptimizerId, OptimizerSettings>;
  const state: PlaygroundState = {
    task,
    dataset: oneOf('dataset', TOY_DATASETS, d.dataset),
    backend: oneOf('backend', BACKEND_CHOICES, d.backend),
    threads: read('threads', d.threads, (raw) => (raw === '0' ? 0 : positiveNumber(raw, true)), 'not 0 or a positive integer'),
    optimizers: listed.length > 0 ? [...new Set(listed)] : d.optimizers,
    steps: positive('steps', d.steps, true),
    autostart: read('autostart', false, (raw) => (raw === '1' ? true : raw === '0' ? false : undefined), 'not 1 or 0'),
    seed: positive('seed', d.seed, true),
    settings,
    preset: oneOf('preset', SPECTRUM_VIEW_PRESETS, d.preset),
    nsSteps: positive('nsSteps', d.nsSteps, true),
    layer: q.get('layer') ?? d.layer,
    spectrumEvery: positive('spectrumEvery', d.spectrumEvery, true),
  };
  for (const [key, value] of q) {
    if (!URL_KEYS.has(key)) ignored.push(`${key}=${value} (not a setting of the page)`);
  }
  return { state, ignored };
}

/** Every query-string key the page reads. */
const URL_KEYS: ReadonlySet<string> = new Set([
  'task', 'dataset', 'backend', 'threads', 'optimizers', 'steps', 'autostart', 'seed', 'preset', 'nsSteps', 'layer', 'spectrumEvery',
  ...OPTIMIZER_IDS.flatMap((id) => [`${id}Lr`, `${id}Schedule`]),
]);

/**
 * Reads the state from a query string, as {@link parseStateReport} does, without the report.
 *
 * @example
 * parseState('?task=mlp&optimizers=muon,adamw&steps=100&autostart=1').optimizers; // ['muon', 'adamw']
 */
export function parseState(search: string): PlaygroundState {
  return parseStateReport(search).state;
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
