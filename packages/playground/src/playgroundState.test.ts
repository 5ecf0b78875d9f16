import { describe, expect, it } from 'vitest';
import { DEFAULT_STATE, TASK_DEFAULT_SETTINGS, parseState, parseStateReport, serializeState, type PlaygroundState } from './playgroundState.js';

describe('playground URL state', () => {
  it('round-trips every setting', () => {
    const state: PlaygroundState = {
      task: 'transformer',
      dataset: 'xor',
      backend: 'webgl',
      threads: 0,
      optimizers: ['lion', 'muon'],
      steps: 120,
      autostart: true,
      seed: 7,
      settings: { muon: { lr: 0.05, schedule: 'cosine' }, adamw: { lr: 1e-3, schedule: 'constant' }, lion: { lr: 1e-4, schedule: 'linear' } },
      preset: 'polarExpress5',
      nsSteps: 6,
      layer: 'block1_mlp_in/kernel',
      spectrumEvery: 5,
    };
    expect(parseState(serializeState(state))).toEqual(state);
    expect(parseState(serializeState(DEFAULT_STATE))).toEqual(DEFAULT_STATE);
  });

  it('reads the automation contract and falls back to defaults on malformed values', () => {
    const s = parseState('?task=mlp&backend=wasm&optimizers=muon,adamw,sophia&steps=60&autostart=1&muonLr=-1&preset=nope');
    expect(s).toMatchObject({ task: 'mlp', backend: 'wasm', optimizers: ['muon', 'adamw'], steps: 60, autostart: true, preset: 'jordan' });
    expect(s.settings.muon.lr).toBe(TASK_DEFAULT_SETTINGS.mlp.muon.lr);
    expect(parseState('').optimizers).toEqual(DEFAULT_STATE.optimizers);
  });

  it('names every value it ignored, with the reason, and nothing for a link it wrote itself', () => {
    const { state, ignored } = parseStateReport('?task=mlp&optimizers=muon,sophia,adam&muonLr=-1&steps=2.5&threads=-3&autostart=yes&preset=nope&colour=red&backend=webgpu');
    expect(state).toMatchObject({ task: 'mlp', optimizers: ['muon'], steps: DEFAULT_STATE.steps, threads: DEFAULT_STATE.threads, autostart: false, preset: 'jordan', backend: 'webgpu' });
    expect(ignored).toEqual([
      'optimizers=sophia,adam (not one of muon, adamw, lion)',
      'muonLr=-1 (not a positive number)',
      'threads=-3 (not 0 or a positive integer)',
      'steps=2.5 (not a positive integer)',
      'autostart=yes (not 1 or 0)',
      expect.stringMatching(/^preset=nope \(not one of jordan, /),
      'colour=red (not a setting of the page)',
    ]);
    expect(parseStateReport(serializeState({ ...DEFAULT_STATE, autostart: true, layer: 'hidden1/kernel', threads: 0 })).ignored).toEqual([]);
    // turboMuon normalizes by AOL: its p(σ) has no curve on the view's σ/‖X‖_F axis, so the view does not offer it.
    const aol = parseStateReport('?preset=turboMuon');
    expect(aol.state.preset).toBe('jordan');
    expect(aol.ignored).toEqual([expect.stringMatching(/^preset=turboMuon \(not one of jordan, .*polarExpress8\)$/)]);
  });
});
