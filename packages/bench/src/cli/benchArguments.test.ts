import { describe, expect, it } from 'vitest';
import { parseBenchArguments } from './benchArguments.js';

// The command line of `muon-tfjs bench` (`npm run bench -- ...`), parsed without running anything.
describe('parseBenchArguments', () => {
  it('reads the options, with the defaults for backend and out', () => {
    expect(parseBenchArguments(['--models', 'mlp,convnet', '--seeds', '3', '--full'])).toEqual({
      help: false,
      options: { full: true, quick: false, models: 'mlp,convnet', seeds: '3', backend: 'wasm', out: 'bench-results' },
    });
    expect(parseBenchArguments(['--backend', 'cpu', '--out', '/tmp/x'])).toEqual({ help: false, options: { full: false, quick: false, backend: 'cpu', out: '/tmp/x' } });
  });

  it('--help and -h ask for the usage, whatever else is given', () => {
    expect(parseBenchArguments(['--help'])).toEqual({ help: true });
    expect(parseBenchArguments(['--models', 'mlp', '-h'])).toEqual({ help: true });
  });

  it('refuses unknown flags, missing values, positional arguments and unknown backends', () => {
    expect(() => parseBenchArguments(['--modles', 'mlp'])).toThrow(/Unknown option '--modles'/);
    expect(() => parseBenchArguments(['--out'])).toThrow(/--out/);
    expect(() => parseBenchArguments(['mlp'])).toThrow(/positional/);
    expect(() => parseBenchArguments(['--backend', 'webgl'])).toThrow("--backend: unknown backend 'webgl'; choose from wasm, cpu");
  });
});
