import { describe, expect, it } from 'vitest';
import { newtonSchulzEach } from '../math/orthogonalizer.js';
import { resolveMuonOptions } from './muon.js';
import { resolveNorMuonOptions } from './normuon.js';
import { type GroupSpec, createGroup } from './optimizerKinds.js';

// Options that only mean something together, said by the types: every `@ts-expect-error` below
// must meet a compile error (`npm run typecheck` fails on one that does not), and the run-time check
// that JavaScript callers and saved configs meet refuses the same call, naming the option.

const SERVICES = { defaultOrthogonalizer: () => newtonSchulzEach };

describe('couplings of the options, refused by the types and at run time alike', () => {
  it('layer-aware nsSteps choose their own coefficients and run float32', () => {
    // @ts-expect-error coefficients do not combine with layer-aware nsSteps
    expect(() => resolveMuonOptions({ nsSteps: 'auto', coefficients: 'polarExpress5' }, 'Muon')).toThrow(/Muon: layer-aware nsSteps choose the coefficients per layer; leave coefficients out/);
    // @ts-expect-error bfloat16 does not combine with layer-aware nsSteps
    expect(() => resolveMuonOptions({ nsSteps: { kind: 'auto', every: 10 }, precision: 'bfloat16' }, 'Muon')).toThrow(/Muon: layer-aware nsSteps run float32 schedules/);
    // @ts-expect-error nor with NorMuon's
    expect(() => resolveNorMuonOptions({ nsSteps: 'auto', precision: 'float16' }, 'NorMuon')).toThrow(/NorMuon: layer-aware nsSteps run float32 schedules/);
    expect(resolveMuonOptions({ nsSteps: { kind: 'auto', every: 10 }, precision: 'float32' }).nsSteps).toEqual({ kind: 'auto', every: 10, quantile: 'q90', maxSteps: 5 });
    expect(resolveMuonOptions({ nsSteps: 3, coefficients: 'jordan', precision: 'bfloat16' }).nsSteps).toBe(3);
  });

  it("the layer-aware settings live in nsSteps: the flat names of before are refused, naming the new form", () => {
    // @ts-expect-error nsAutoEvery is now nsSteps: { kind: 'auto', every }
    expect(() => resolveMuonOptions({ nsSteps: 'auto', nsAutoEvery: 10 }, 'Muon')).toThrow("Muon: option 'nsAutoEvery' has moved; write nsSteps: { kind: 'auto', every }");
    // @ts-expect-error every is a layer-aware setting, of nsSteps: { kind: 'auto' } only
    expect(() => resolveMuonOptions({ nsSteps: { kind: 'fixed', every: 10 } }, 'Muon')).toThrow(/Muon: nsSteps must be a positive integer, a piecewise schedule, 'auto' or \{ kind: 'auto', every\?, quantile\?, maxSteps\? \}/);
    // @ts-expect-error a layer-aware setting that does not exist
    expect(() => resolveMuonOptions({ nsSteps: { kind: 'auto', steps: 3 } }, 'Muon')).toThrow("Muon: unknown nsSteps setting 'steps'; layer-aware nsSteps take kind, every, quantile, maxSteps");
  });

  it('execution settings live in execution, apart from the hyper-parameters', () => {
    // @ts-expect-error fused is an execution setting
    expect(() => resolveMuonOptions({ fused: false }, 'Muon')).toThrow("Muon: option 'fused' has moved; write execution: { fused }");
    // @ts-expect-error orthogonalize is an execution setting
    expect(() => resolveNorMuonOptions({ orthogonalize: newtonSchulzEach }, 'NorMuon')).toThrow("NorMuon: option 'orthogonalize' has moved; write execution: { orthogonalize }");
    // @ts-expect-error a hyper-parameter is not an execution setting
    expect(() => resolveMuonOptions({ execution: { momentum: 0.9 } }, 'Muon')).toThrow("Muon: unknown execution setting 'momentum'; valid settings are orthogonalize, fused");
  });

  it('a hybrid group takes the options of its own optimizer', () => {
    // @ts-expect-error AdamW has no nsSteps
    const adamwWithNsSteps: GroupSpec = { optimizer: 'adamw', options: { nsSteps: 3 } };
    expect(() => createGroup(adamwWithNsSteps, 'hybrid.adamw', SERVICES)).toThrow(/hybrid.adamw: unknown option 'nsSteps'/);
    // @ts-expect-error Sophia's rho is no option of Lion
    const lionWithRho: GroupSpec = { optimizer: 'lion', options: { rho: 0.05 } };
    expect(() => createGroup(lionWithRho, 'hybrid.lion', SERVICES)).toThrow(/hybrid.lion: unknown option 'rho'/);
    const sophia: GroupSpec = { optimizer: 'sophia', options: { rho: 0.05 } };
    expect(createGroup(sophia, 'hybrid.sophia', SERVICES).options).toMatchObject({ rho: 0.05 });
  });
});
