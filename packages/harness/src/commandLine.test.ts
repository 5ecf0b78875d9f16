import { describe, expect, it } from 'vitest';
import { parseCommandLine } from './commandLine.js';

const spec = { usage: 'Usage: x\n', strings: ['runs', 'shapes'], flags: ['skip-wasm'] } as const;

describe('parseCommandLine (every npm run bench:* script)', () => {
  it('reads values and flags; absent ones are undefined / false', () => {
    expect(parseCommandLine(spec, ['--runs', '7', '--skip-wasm'])).toEqual({ help: false, values: { runs: '7', shapes: undefined, 'skip-wasm': true } });
    expect(parseCommandLine(spec, [])).toEqual({ help: false, values: { runs: undefined, shapes: undefined, 'skip-wasm': false } });
  });

  it('--help / -h', () => {
    expect(parseCommandLine(spec, ['--help'])).toEqual({ help: true });
    expect(parseCommandLine(spec, ['--runs', '3', '-h'])).toEqual({ help: true });
  });

  it('refuses unknown flags, missing values and positional arguments', () => {
    expect(() => parseCommandLine(spec, ['--run', '7'])).toThrow(/Unknown option '--run'/);
    expect(() => parseCommandLine(spec, ['--runs'])).toThrow(/--runs/);
    expect(() => parseCommandLine(spec, ['7'])).toThrow(/positional/);
    expect(() => parseCommandLine(spec, ['--skip-wasm=yes'])).toThrow(/--skip-wasm/);
  });
});
