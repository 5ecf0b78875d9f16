import { describe, expect, it } from 'vitest';
import { SPECTRUM_OPTIONS, SPECTRUM_USAGE, spectrumCommand } from './spectrumCommand.js';

describe('muon-tfjs spectrum', () => {
  it('--help documents every flag', () => {
    for (const flag of Object.keys(SPECTRUM_OPTIONS)) expect(SPECTRUM_USAGE).toContain(`--${flag}`);
  });

  it('refuses unknown flags and bad values before training, naming them', async () => {
    await expect(spectrumCommand(['--widths', '64', '--bogus'])).rejects.toThrow(/Unknown option '--bogus'/);
    await expect(spectrumCommand(['--widths', '64,x'])).rejects.toThrow(/--widths: expected comma-separated positive integers, got '64,x'/);
    await expect(spectrumCommand(['--steps', '10', '--burn-in', '10'])).rejects.toThrow(/--burn-in: 10 leaves no tracked step/);
    await expect(spectrumCommand(['--steps', '10', '--burn-in', '5', '--every', '6'])).rejects.toThrow(/--every: 6 tracks no step/);
    await expect(spectrumCommand(['--widths', '100'])).rejects.toThrow(/--widths: 100 is not a multiple of its head count 3/);
  });
});
