import { ADAMW_KIND } from './adamw.js';
import { DION2_KIND } from './dion2.js';
import { LION_KIND } from './lion.js';
import { MUON_KIND } from './muon.js';
import { NORMUON_KIND } from './normuon.js';
import { SOPHIA_KIND } from './sophia.js';
import { type OptimizerGroup, type OptimizerKind, type OptimizerServices, type OptionsOf, createOptimizerGroup } from './optimizerKind.js';

/**
 * Every optimizer of the package, by the name a hybrid group and a config give it: the one list the
 * hybrid's {@link GroupSpec}, the standalone classes' registration, the option-name checks and the
 * shared test suites read. A new optimizer joins with one line here (its key is its kind's `name`).
 */
export const OPTIMIZER_KINDS = Object.freeze({
  muon: MUON_KIND,
  adamw: ADAMW_KIND,
  lion: LION_KIND,
  normuon: NORMUON_KIND,
  sophia: SOPHIA_KIND,
  dion2: DION2_KIND,
} as const satisfies Record<string, OptimizerKind>);

/** The name of an optimizer kind: `'muon' | 'adamw' | 'lion' | 'normuon' | ...`. */
export type OptimizerKindName = keyof typeof OPTIMIZER_KINDS;

/** One group of a hybrid: which optimizer, with which options (defaults: that optimizer's own); one member per kind. */
export type GroupSpec = {
  readonly [Name in OptimizerKindName]: { readonly optimizer: Name; readonly options?: OptionsOf<(typeof OPTIMIZER_KINDS)[Name]> };
}[OptimizerKindName];

/** The kind of a name a JavaScript caller or a saved config gives, or an error listing the kinds. */
export function optimizerKindNamed(name: unknown, owner: string): OptimizerKind {
  if (typeof name !== 'string' || !Object.hasOwn(OPTIMIZER_KINDS, name)) {
    throw new Error(`${owner}: unknown optimizer '${String(name)}'; expected one of ${Object.keys(OPTIMIZER_KINDS).join(', ')}`);
  }
  return OPTIMIZER_KINDS[name as OptimizerKindName] as OptimizerKind;
}

/** Checks a group spec by name and builds its optimizer. */
export function createGroup(spec: GroupSpec, owner: string, services: OptimizerServices): OptimizerGroup {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
    throw new Error(`${owner}: expected { optimizer, options }, got ${JSON.stringify(spec)}`);
  }
  for (const key of Object.keys(spec)) {
    if (key !== 'optimizer' && key !== 'options') {
      throw new Error(`${owner}: unknown field '${key}'; a group has 'optimizer' and 'options'`);
    }
  }
  const kind = optimizerKindNamed(spec.optimizer, owner);
  const { options } = spec;
  if (options !== undefined && (options === null || typeof options !== 'object' || Array.isArray(options))) {
    throw new Error(`${owner}: options must be an object, got ${JSON.stringify(options)}`);
  }
  return createOptimizerGroup(kind, options, owner, services);
}
