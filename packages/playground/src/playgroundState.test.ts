import { describe, expect, it } from 'vitest';
import { DEFAULT_STATE, TASK_DEFAULT_SETTINGS, parseState, parseStateReport, serializeState, type PlaygroundState } from './playgroundState.js';

describe('playground URL state', () => {
  it('round-trips every setting', () => {
    const state: PlaygroundState = {
      task: 'transformer',
      dataset: 'xor',
      backend: 'webgl',
      threads: 0,
      optimizers: ['lion', 'dion2', 'muon'],
      steps: 120,
      autostart: true,
      seed: 7,
      settings: { muon: { lr: 0.05, schedule: 'cosine' }, adamw: { lr: 1e-3, schedule: 'constant' }, lion: { lr: 1e-4, schedule: 'linear' }, dion2: { lr: 0.03, schedule: 'constant' } },
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

  it('offers dion2 beside the default three: its own lr and schedule in the link, 0.05 by default', () => {
    expect(DEFAULT_STATE.optimizers).toEqual(['muon', 'adamw', 'lion']);
    const { state, ignored } = parseStateReport('?task=mlp&optimizers=muon,adamw,dion2&dion2Lr=0.03&dion2Schedule=cosine');
    expect(ignored).toEqual([]);
    expect(state.optimizers).toEqual(['muon', 'adamw', 'dion2']);
    expect(state.settings.dion2).toEqual({ lr: 0.03, schedule: 'cosine' });
    expect(serializeState(state)).toContain('optimizers=muon%2Cadamw%2Cdion2');
    expect(serializeState(state)).toContain('dion2Lr=0.03&dion2Schedule=cosine');
    // The middle of the benchmark's lr grid for Dion2 (0.01 … 0.2), on every task.
    for (const settings of Object.values(TASK_DEFAULT_SETTINGS)) expect(settings.dion2).toEqual({ lr: 0.05, schedule: 'linear' });
    expect(parseStateReport('?dion2Lr=0&dion2Schedule=step').ignored).toEqual(['dion2Lr=0 (not a positive number)', 'dion2Schedule=step (not one of constant, linear, cosine)']);
  });

  it('names every value it ignored, with the reason, and nothing for a link it wrote itself', () => {
    const { state, ignored } = parseStateReport('?task=mlp&optimizers=muon,sophia,adam&muonLr=-1&steps=2.5&threads=-3&autostart=yes&preset=nope&colour=red&backend=webgpu');
    expect(state).toMatchObject({ task: 'mlp', optimizers: ['muon'], steps: DEFAULT_STATE.steps, threads: DEFAULT_STATE.threads, autostart: false, preset: 'jordan', backend: 'webgpu' });
    expect(ignored).toEqual([
      'optimizers=sophia,adam (not one of muon, adamw, lion, dion2)',
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
