/**
 * Hyper-parameter schedules as plain, serializable data: a learning rate or a momentum that
 * depends on the step index. A schedule is a value, not a function, so that an optimizer's
 * `getConfig()` can save it and `fromConfig()` restore it, and a resumed run reads the same value
 * at the same step (the step index is the optimizer's `iterations`, saved with its weights).
 *
 * Convention: `scheduleValue(s, t)` is the value used by the step that follows `t` completed steps
 * (t = 0 for the first step), the indexing of PyTorch's LR schedulers and modded-nanogpt.
 */

/** A constant value. */
export interface ConstantSchedule {
  readonly kind: 'constant';
  readonly value: number;
}

/** A straight line from `from` (at t = 0) to `to` (at t = `steps`), then flat at `to`. */
export interface LinearSchedule {
  readonly kind: 'linear';
  readonly from: number;
  readonly to: number;
  readonly steps: number;
}

/**
 * Linear warm-up, then `peak` for ever: peak·min(1, (t + 1)/warmupSteps), so the first step takes
 * peak/warmupSteps (not 0) and step `warmupSteps` the full peak.
 */
export interface LinearWarmupSchedule {
  readonly kind: 'linearWarmup';
  readonly peak: number;
  readonly warmupSteps: number;
}

/**
 * Linear warm-up over `warmupSteps`, then `peak` until `steps − decaySteps`, then a decay to `final`
 * reached at t = `steps` (and kept after): `linear` or half a `cosine` period. With `decaySteps` =
 * `steps − warmupSteps` this is the classic warm-up + cosine (Loshchilov & Hutter, SGDR) or
 * warm-up + linear decay; with a short decay it is warmup-stable-decay (Hu et al., MiniCPM,
 * arXiv 2404.06395; Hägele et al., arXiv 2405.18392).
 */
export interface DecaySchedule {
  readonly kind: 'decay';
  readonly shape: 'linear' | 'cosine';
  readonly peak: number;
  readonly final: number;
  readonly steps: number;
  readonly warmupSteps: number;
  readonly decaySteps: number;
}

/**
 * A value held between boundaries (optax's `piecewise_constant_schedule`, with the values given
 * rather than as factors): `values[0]` before `boundaries[0]`, `values[i]` for
 * t ∈ [boundaries[i−1], boundaries[i]), the last value from the last boundary on. With
 * `{ boundaries: [500], values: [3, 5] }` the first 500 steps (t = 0 … 499) take 3, the rest 5.
 */
export interface PiecewiseSchedule {
  readonly kind: 'piecewise';
  /** Step indices at which the value changes: integers ≥ 1, increasing. */
  readonly boundaries: readonly number[];
  /** One value more than there are boundaries. */
  readonly values: readonly number[];
}

/** A hyper-parameter as a function of the step index, in serializable form. */
export type Schedule = ConstantSchedule | LinearSchedule | LinearWarmupSchedule | DecaySchedule | PiecewiseSchedule;

/** A fixed number, or a {@link Schedule}: what a learning-rate or momentum option accepts. */
export type Scheduled = number | Schedule;

/** Options shared by the decaying schedules. */
export interface DecayOptions {
  /** The value after warm-up. */
  readonly peak: number;
  /** The step index at which `final` is reached (the run's length, usually). */
  readonly steps: number;
  /** Linear warm-up steps before the peak. Default 0. */
  readonly warmupSteps?: number;
  /** The value at the end. Default 0 (a learning rate of 0 is valid: the step changes nothing). */
  readonly final?: number;
}

/** A constant schedule (what a plain number means). */
export function constant(value: number): ConstantSchedule {
  return checked({ kind: 'constant', value });
}

/** A linear ramp from `from` to `to` over `steps` steps, then flat. */
export function linear(options: { readonly from: number; readonly to: number; readonly steps: number }): LinearSchedule {
  return checked({ kind: 'linear', from: options.from, to: options.to, steps: options.steps });
}

/** Linear warm-up to `peak` over `warmupSteps`, then constant. */
export function linearWarmup(options: { readonly peak: number; readonly warmupSteps: number }): LinearWarmupSchedule {
  return checked({ kind: 'linearWarmup', peak: options.peak, warmupSteps: options.warmupSteps });
}

/**
 * Optional warm-up, then a cosine from `peak` to `final` (default 0) at step `steps`.
 * @example
 * muon({ learningRate: cosine({ peak: 0.02, steps: 1000, warmupSteps: 50 }) });
 */
export function cosine(options: DecayOptions): DecaySchedule {
  return decay('cosine', options, options.steps - (options.warmupSteps ?? 0));
}

/**
 * Optional warm-up, then a straight line from `peak` to `final` (default 0) at step `steps`: the
 * "linear decay to zero" the benchmark protocol (issue 12) trains every optimizer with.
 */
export function linearDecay(options: DecayOptions): DecaySchedule {
  return decay('linear', options, options.steps - (options.warmupSteps ?? 0));
}

/**
 * Warmup-stable-decay: warm-up, `peak` held, then a linear decay to `final` (default 0) over the
 * last `decaySteps` steps (modded-nanogpt's "cooldown" and MiniCPM's WSD).
 */
export function warmupStableDecay(options: DecayOptions & { readonly decaySteps: number }): DecaySchedule {
  return decay('linear', options, options.decaySteps);
}

/**
 * Muon's momentum warm-up (modded-nanogpt `train_gpt.py`: frac = min(step/300, 1), momentum =
 * (1 − frac)·0.85 + frac·0.95): low momentum while the first, large gradients settle.
 */
export function momentumWarmup(options: { readonly from?: number; readonly to?: number; readonly steps?: number } = {}): LinearSchedule {
  return linear({ from: options.from ?? 0.85, to: options.to ?? 0.95, steps: options.steps ?? 300 });
}

/**
 * Values held between boundaries (see {@link PiecewiseSchedule}).
 * @example
 * muon({ nsSteps: piecewise({ boundaries: [500], values: [3, 5] }) }); // 3 Newton–Schulz steps for the first 500 steps, then 5
 */
export function piecewise(options: { readonly boundaries: readonly number[]; readonly values: readonly number[] }): PiecewiseSchedule {
  return checked({ kind: 'piecewise', boundaries: options.boundaries, values: options.values });
}

function decay(shape: DecaySchedule['shape'], options: DecayOptions, decaySteps: number): DecaySchedule {
  const { peak, steps, warmupSteps = 0, final = 0 } = options;
  return checked({ kind: 'decay', shape, peak, final, steps, warmupSteps, decaySteps });
}

/** The value of `scheduled` at step index `t` (completed steps); a number is its own value. */
export function scheduleValue(scheduled: Scheduled, t: number): number {
  if (typeof scheduled === 'number') return scheduled;
  switch (scheduled.kind) {
    case 'constant':
      return scheduled.value;
    case 'linear':
      return scheduled.from + (scheduled.to - scheduled.from) * Math.min(1, t / scheduled.steps);
    case 'linearWarmup':
      return scheduled.peak * Math.min(1, (t + 1) / scheduled.warmupSteps);
    case 'decay': {
      const { shape, peak, final, steps, warmupSteps, decaySteps } = scheduled;
      if (t < warmupSteps) return peak * ((t + 1) / warmupSteps);
      const start = steps - decaySteps;
      if (t <= start) return peak;
      const progress = Math.min(1, (t - start) / decaySteps);
      const fraction = shape === 'linear' ? 1 - progress : 0.5 * (1 + Math.cos(Math.PI * progress));
      return final + (peak - final) * fraction;
    }
    case 'piecewise': {
      const passed = scheduled.boundaries.filter((boundary) => t >= boundary).length;
      return scheduled.values[passed] as number;
    }
  }
}

/**
 * The largest value a number or a schedule takes: lr_max of the corrected weight decay, as timm's
 * `max_lr` (the peak of a warm-up/decay schedule).
 */
export function maxValue(scheduled: Scheduled): number {
  return typeof scheduled === 'number' ? scheduled : Math.max(...levels(scheduled));
}

/**
 * The levels a schedule moves between: every value it takes lies between the least and the
 * greatest of them (each piece is monotone between two of these; a warm-up starts above 0).
 */
function levels(schedule: Schedule): number[] {
  switch (schedule.kind) {
    case 'constant':
      return [schedule.value];
    case 'linear':
      return [schedule.from, schedule.to];
    case 'linearWarmup':
      return [schedule.peak];
    case 'decay':
      return [schedule.peak, schedule.final];
    case 'piecewise':
      return [...schedule.values];
  }
}

const FIELDS: Readonly<Record<Schedule['kind'], readonly string[]>> = {
  constant: ['kind', 'value'],
  linear: ['kind', 'from', 'to', 'steps'],
  linearWarmup: ['kind', 'peak', 'warmupSteps'],
  decay: ['kind', 'shape', 'peak', 'final', 'steps', 'warmupSteps', 'decaySteps'],
  piecewise: ['kind', 'boundaries', 'values'],
};

/** Whether `value` has the form of a schedule (an object with a known `kind`); not yet checked. */
export function isSchedule(value: unknown): value is Schedule {
  return value !== null && typeof value === 'object' && Object.hasOwn(FIELDS, (value as { kind?: unknown }).kind as string);
}

/**
 * Checks a number or schedule option: its form, its step counts, and that every value it takes
 * satisfies `inRange` (described by `range` in the message). Returns a frozen copy, ready to save.
 * @param name the option at fault, for the message (e.g. `learningRate`)
 * @param owner the optimizer or group, for the message
 */
export function checkScheduled(value: unknown, name: string, owner: string, inRange: (x: number) => boolean, range: string): Scheduled {
  // (A piecewise schedule's values are its levels: `inRange` sees each of them.)
  if (typeof value === 'number') {
    if (!inRange(value)) throw new Error(`${owner}: ${name} must be ${range}, got ${String(value)}`);
    return value;
  }
  if (!isSchedule(value)) {
    throw new Error(`${owner}: ${name} must be a number or a schedule ({ kind: ${Object.keys(FIELDS).join(' | ')}, ... }), got ${JSON.stringify(value)}`);
  }
  const where = `${owner}: ${name} (a '${value.kind}' schedule)`;
  const fields = FIELDS[value.kind];
  for (const key of Object.keys(value)) {
    if (!fields.includes(key)) throw new Error(`${where} has an unknown field '${key}'; its fields are ${fields.join(', ')}`);
  }
  if (value.kind === 'piecewise') checkPiecewise(value, where);
  else {
    for (const key of fields.slice(1)) {
      const x = (value as unknown as Record<string, unknown>)[key];
      if (key === 'shape' ? x !== 'linear' && x !== 'cosine' : typeof x !== 'number' || !Number.isFinite(x)) {
        throw new Error(`${where}: ${key} must be ${key === 'shape' ? "'linear' or 'cosine'" : 'a finite number'}, got ${typeof x === 'number' ? String(x) : JSON.stringify(x)}`);
      }
    }
    checkSteps(value, where);
  }
  for (const level of levels(value)) {
    if (!inRange(level)) throw new Error(`${where} takes the value ${level}, but ${name} must be ${range}`);
  }
  return value.kind === 'piecewise'
    ? Object.freeze({ kind: 'piecewise', boundaries: Object.freeze([...value.boundaries]), values: Object.freeze([...value.values]) })
    : Object.freeze({ ...value });
}

/** Boundaries are increasing integers ≥ 1; one finite value more than there are boundaries. */
function checkPiecewise(schedule: PiecewiseSchedule, where: string): void {
  const { boundaries, values } = schedule;
  if (!Array.isArray(boundaries) || !Array.isArray(values)) {
    throw new Error(`${where}: boundaries and values must be arrays, got ${JSON.stringify(boundaries)} and ${JSON.stringify(values)}`);
  }
  if (values.length !== boundaries.length + 1) {
    throw new Error(`${where}: values must have one entry more than boundaries (${boundaries.length}), got ${values.length}`);
  }
  boundaries.forEach((boundary, i) => {
    if (!Number.isInteger(boundary) || boundary < 1 || (i > 0 && boundary <= (boundaries[i - 1] as number))) {
      throw new Error(`${where}: boundaries must be increasing integers ≥ 1, got ${JSON.stringify(boundaries)}`);
    }
  });
  for (const x of values) {
    if (typeof x !== 'number' || !Number.isFinite(x)) throw new Error(`${where}: values must be finite numbers, got ${JSON.stringify(values)}`);
  }
}

/** Step counts are integers; a warm-up and a decay fit in the run and do not overlap. */
function checkSteps(schedule: Schedule, where: string): void {
  const counts: [string, number, number][] = [];
  if (schedule.kind === 'linear') counts.push(['steps', schedule.steps, 1]);
  if (schedule.kind === 'linearWarmup') counts.push(['warmupSteps', schedule.warmupSteps, 1]);
  if (schedule.kind === 'decay') counts.push(['steps', schedule.steps, 1], ['warmupSteps', schedule.warmupSteps, 0], ['decaySteps', schedule.decaySteps, 1]);
  for (const [key, n, least] of counts) {
    if (!Number.isInteger(n) || n < least) throw new Error(`${where}: ${key} must be an integer ≥ ${least}, got ${n}`);
  }
  if (schedule.kind === 'decay' && schedule.warmupSteps + schedule.decaySteps > schedule.steps) {
    throw new Error(`${where}: warmupSteps (${schedule.warmupSteps}) + decaySteps (${schedule.decaySteps}) exceed steps (${schedule.steps})`);
  }
}

/** Builds through the same check as options, so a constructor's misuse names the field at fault. */
function checked<S extends Schedule>(schedule: S): S {
  return checkScheduled(schedule, 'schedule', schedule.kind, Number.isFinite, 'a finite number') as S;
}
