import { type Scheduled, checkScheduled } from '../math/schedule.js';

/**
 * Validation shared by every optimizer's options: unknown names are refused (a typo such as
 * `learnigRate` must not silently fall back to a default), and each numeric hyper-parameter is
 * checked against its range, with the option and the value in the message.
 */

/**
 * Every key of any member of a union of options types (`keyof` of a union names only the keys
 * all members share): Muon's options are a union over how Newton–Schulz runs.
 */
export type OptionKeys<Options> = Options extends unknown ? keyof Options : never;

/**
 * Every option name of `Options`, each mapped to `true`. Written as an object literal it must name
 * every key of the options type and nothing else (a missing key and an unknown one are both
 * compile errors), so that {@link optionNames} gives the run-time check the type's own list.
 */
export type OptionNameSet<Options> = { readonly [K in OptionKeys<Options>]-?: true };

/**
 * The list {@link rejectUnknownOptions} reads, from the set the compiler checked against the options type.
 * @example
 * export const LION_OPTION_NAMES = optionNames<LionOptions>({ learningRate: true, beta1: true, beta2: true, ...WEIGHT_DECAY_OPTION_SET });
 */
export function optionNames<Options>(names: OptionNameSet<Options>): readonly (OptionKeys<Options> & string)[] {
  return Object.freeze(Object.keys(names) as (OptionKeys<Options> & string)[]);
}

/**
 * Throws unless `given` is an options object whose keys are all in `known`, naming the first
 * unknown one and listing the valid ones; where an option has moved (`moved`: its old name → how
 * to write it now), the error says where. One rule for every optimizer: an option left out (or
 * `undefined`) takes its default; `null` is refused, since it more likely marks a bug than a wish
 * for the default.
 */
export function rejectUnknownOptions(given: object, known: readonly string[], owner: string, moved: Readonly<Record<string, string>> = {}): void {
  if (given === null || typeof given !== 'object' || Array.isArray(given)) {
    throw new Error(`${owner}: options must be an object, got ${JSON.stringify(given)}`);
  }
  for (const [key, value] of Object.entries(given)) {
    if (!known.includes(key)) {
      if (Object.hasOwn(moved, key)) throw new Error(`${owner}: option '${key}' has moved; write ${moved[key] as string}`);
      throw new Error(`${owner}: unknown option '${key}'; valid options are ${known.join(', ')}`);
    }
    if (value === null) {
      throw new Error(`${owner}: option '${key}' is null; leave it out (or undefined) for its default`);
    }
  }
}

/**
 * The options actually given: those set to `undefined` are dropped, so that spread over the
 * defaults (`{ ...DEFAULTS, ...givenOptions(options) }`) they keep their defaults, as
 * {@link rejectUnknownOptions} promises.
 */
export function givenOptions<Options extends object>(options: Options): { [K in keyof Options]: Exclude<Options[K], undefined> } {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as { [K in keyof Options]: Exclude<Options[K], undefined> };
}

/** Throws unless `value` is a finite number > 0 (epsilons: 0 lets a zero gradient write 0/0). */
export function checkPositive(value: number, name: string, owner: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new Error(`${owner}: ${name} must be a finite number > 0, got ${String(value)}`);
  }
}

/** Throws unless `value` is a finite number ≥ 0. */
export function checkNonNegative(value: number, name: string, owner: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new Error(`${owner}: ${name} must be a finite number ≥ 0, got ${String(value)}`);
  }
}

/** Throws unless 0 ≤ value < 1 (momentum and EMA rates: 1 would freeze the average forever). */
export function checkUnitInterval(value: number, name: string, owner: string): void {
  if (typeof value !== 'number' || !(value >= 0 && value < 1)) {
    throw new Error(`${owner}: ${name} must be in [0, 1), got ${String(value)}`);
  }
}

/**
 * Checks a learning rate: a finite number ≥ 0, or a schedule whose every value is one. 0 is valid
 * (a schedule that decays to zero ends with steps that change nothing; issue 16 item 13); negative
 * and NaN rates are refused. Returns the value to keep (a schedule frozen).
 */
export function checkLearningRate(value: Scheduled, name: string, owner: string): Scheduled {
  return checkScheduled(value, name, owner, (x) => Number.isFinite(x) && x >= 0, 'a finite number ≥ 0');
}

/** Checks a momentum (an EMA rate): a number in [0, 1), or a schedule whose every value is one. */
export function checkMomentum(value: Scheduled, name: string, owner: string): Scheduled {
  return checkScheduled(value, name, owner, (x) => x >= 0 && x < 1, 'in [0, 1)');
}
