import { describe, expect, it } from 'vitest';
import { newtonSchulzEach } from '../math/orthogonalizer.js';
import { ADAMW_OPTION_NAMES } from './adamw.js';
import { DION2_OPTION_NAMES } from './dion2.js';
import { LION_OPTION_NAMES } from './lion.js';
import { MUON_OPTION_NAMES } from './muon.js';
import { NORMUON_OPTION_NAMES, resolveNorMuonOptions } from './normuon.js';
import { OPTIMIZER_KINDS, type OptimizerKindName } from './optimizerKinds.js';
import type { OptimizerServices } from './optimizerKind.js';
import { SOPHIA_OPTION_NAMES } from './sophia.js';

// Each optimizer's option names are listed once, as an object the compiler checks against the
// options type (every key, nothing else: see `optionNames`); the unknown-option check reads the same list.

const OPTION_NAMES: Readonly<Record<OptimizerKindName, readonly string[]>> = {
  muon: MUON_OPTION_NAMES,
  adamw: ADAMW_OPTION_NAMES,
  lion: LION_OPTION_NAMES,
  normuon: NORMUON_OPTION_NAMES,
  sophia: SOPHIA_OPTION_NAMES,
  dion2: DION2_OPTION_NAMES,
};

const SERVICES: OptimizerServices = { defaultOrthogonalizer: () => newtonSchulzEach };

describe('option names: one list for the types and the run-time check', () => {
  it("NorMuon has no fused step: `fused` is refused by its types and at run time alike", () => {
    // @ts-expect-error fused is not a NorMuon option
    expect(() => resolveNorMuonOptions({ fused: false }, 'NorMuonOptimizer')).toThrow(`NorMuonOptimizer: unknown option 'fused'; valid options are ${NORMUON_OPTION_NAMES.join(', ')}`);
    expect(MUON_OPTION_NAMES).toContain('fused');
  });

  it.each(Object.keys(OPTIMIZER_KINDS) as OptimizerKindName[])('%s takes every name of its list (undefined: the default) and refuses any other, listing them', (name) => {
    const kind = OPTIMIZER_KINDS[name] as { create(options: object, owner: string, services: OptimizerServices): unknown };
    const names = OPTION_NAMES[name];
    expect(() => kind.create(Object.fromEntries(names.map((option) => [option, undefined])), 'owner', SERVICES)).not.toThrow();
    expect(() => kind.create({ learnigRate: 0.1 }, 'owner', SERVICES)).toThrow(`owner: unknown option 'learnigRate'; valid options are ${names.join(', ')}`);
  });
});
