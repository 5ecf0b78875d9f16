import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { prepareOutputDirectory } from './outputDirectory.js';

describe('prepareOutputDirectory (--out, checked before the benchmark trains)', () => {
  const root = mkdtempSync(join(tmpdir(), 'muon-tfjs-out-'));

  it('creates a missing folder with its parents and returns its absolute path', () => {
    const dir = join(root, 'a', 'b');
    expect(prepareOutputDirectory(dir)).toBe(dir);
    expect(statSync(dir).isDirectory()).toBe(true);
  });

  it('refuses a path that is a file, naming --out and the reason', () => {
    const file = join(root, 'file');
    writeFileSync(file, '');
    expect(() => prepareOutputDirectory(file)).toThrow(`--out ${file}: cannot write there (EEXIST); choose a writable folder`);
    expect(() => prepareOutputDirectory(join(file, 'sub'))).toThrow(/^--out .*: cannot write there \(ENOTDIR\)/);
  });
});
