import { describe, expect, it } from 'vitest';
import { resolveNorMuonOptions } from './normuon.js';
import { OPTIMIZER_KINDS, type OptimizerKindName } from './optimizerKinds.js';
import type { OptimizerKind } from './optimizerKind.js';

// Each optimizer's option names are listed once, as an object the compiler checks against the
// options type (every key, nothing else: see `optionNames`), and carried by its kind; the
// unknown-option check reads the same list. Every kind of the registry takes part.

const NAMES = Object.keys(OPTIMIZER_KINDS) as OptimizerKindName[];

describe('option names: one list for the types and the run-time check', () => {
  it('NorMuon has no fused step: `execution.fused` is refused by its types and at run time alike', () => {
    // @ts-expect-error fused is not a NorMuon execution setting
    expect(() => resolveNorMuonOptions({ execution: { fused: false } }, 'NorMuonOptimizer')).toThrow("NorMuonOptimizer: unknown execution setting 'fused'; valid settings are orthogonalize");
    expect(OPTIMIZER_KINDS.muon.optionNames).toContain('execution');
  });

  it.each(NAMES)('%s takes every name of its list (undefined: the default) and refuses any other, listing them', (name) => {
    const kind = OPTIMIZER_KINDS[name] as OptimizerKind;
    const names = kind.optionNames;
    expect(() => kind.resolve(Object.fromEntries(names.map((option) => [option, undefined])), 'owner')).not.toThrow();
    expect(() => kind.resolve({ learnigRate: 0.1 }, 'owner')).toThrow(`owner: unknown option 'learnigRate'; valid options are ${names.join(', ')}`);
  });

  it('each kind is registered under its own name, with a class name of its own', () => {
    const kinds = Object.entries<OptimizerKind>(OPTIMIZER_KINDS);
    expect(kinds.filter(([key, kind]) => key !== kind.name)).toEqual([]);
    expect(new Set(kinds.map(([, kind]) => kind.className)).size).toBe(kinds.length);
  });
});
