import { ADAMW_KIND, type AdamWOptions } from './adamw.js';
import { DION2_KIND, type Dion2Options } from './dion2.js';
import { LION_KIND, type LionOptions } from './lion.js';
import { MUON_KIND, type MuonOptions } from './muon.js';
import { NORMUON_KIND, type NorMuonOptions } from './normuon.js';
import { SOPHIA_KIND, type SophiaOptions } from './sophia.js';
import type { OptimizerGroup, OptimizerKind, OptimizerServices } from './optimizerKind.js';

/** The optimizers a hybrid group can use, by the name a config gives them. */
export const OPTIMIZER_KINDS = Object.freeze({
  muon: MUON_KIND,
  adamw: ADAMW_KIND,
  lion: LION_KIND,
  normuon: NORMUON_KIND,
  sophia: SOPHIA_KIND,
  dion2: DION2_KIND,
} as const satisfies Record<string, OptimizerKind<never>>);

/** The name of an optimizer kind: `'muon' | 'adamw' | 'lion' | 'normuon' | ...`. */
export type OptimizerKindName = keyof typeof OPTIMIZER_KINDS;

/** One group of a hybrid: which optimizer, with which options (defaults: that optimizer's own). */
export type GroupSpec =
  | { readonly optimizer: 'muon'; readonly options?: MuonOptions }
  | { readonly optimizer: 'adamw'; readonly options?: AdamWOptions }
  | { readonly optimizer: 'lion'; readonly options?: LionOptions }
  | { readonly optimizer: 'normuon'; readonly options?: NorMuonOptions }
  | { readonly optimizer: 'sophia'; readonly options?: SophiaOptions }
  | { readonly optimizer: 'dion2'; readonly options?: Dion2Options };

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
  const kind = (OPTIMIZER_KINDS as Record<string, OptimizerKind<unknown> | undefined>)[spec.optimizer];
  if (kind === undefined || !Object.hasOwn(OPTIMIZER_KINDS, spec.optimizer)) {
    throw new Error(`${owner}: unknown optimizer '${String(spec.optimizer)}'; expected one of ${Object.keys(OPTIMIZER_KINDS).join(', ')}`);
  }
  const { options } = spec;
  if (options !== undefined && (options === null || typeof options !== 'object' || Array.isArray(options))) {
    throw new Error(`${owner}: options must be an object, got ${JSON.stringify(options)}`);
  }
  return kind.create(options, owner, services);
}
