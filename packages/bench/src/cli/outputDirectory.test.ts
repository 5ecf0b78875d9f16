import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRunDirectory, pointLatestAt, prepareOutputDirectory, runFolderName } from './outputDirectory.js';

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

describe('createRunDirectory (every run in a folder of its own) and the latest link', () => {
  const root = mkdtempSync(join(tmpdir(), 'muon-tfjs-runs-'));
  const second = new Date('2026-12-06T03:40:12.345Z');

  it('names the folder by the UTC second the run started and its mode', () => {
    expect(runFolderName(second, 'quick')).toBe('2026-12-06T03-40-12Z-quick');
  });

  it('gives two runs started in the same second two folders, and never reuses one', () => {
    const first = createRunDirectory(root, 'quick', second);
    writeFileSync(join(first, 'results.json'), 'first');
    const again = createRunDirectory(root, 'quick', second);
    const third = createRunDirectory(root, 'quick', second);
    expect([first, again, third].map((p) => basename(p))).toEqual(['2026-12-06T03-40-12Z-quick', '2026-12-06T03-40-12Z-quick-2', '2026-12-06T03-40-12Z-quick-3']);
    expect(readdirSync(again)).toEqual([]);
    expect(readFileSync(join(first, 'results.json'), 'utf8')).toBe('first');
    expect(basename(createRunDirectory(root, 'default', second))).toBe('2026-12-06T03-40-12Z-default');
    expect(() => createRunDirectory(join(first, 'results.json'), 'quick', second)).toThrow(/^--out .*: cannot write there \(EEXIST\)/);
  });

  it('points latest at the run last finished, as a relative link', () => {
    const a = createRunDirectory(root, 'quick', new Date('2026-12-06T04:00:00Z'));
    const b = createRunDirectory(root, 'full', new Date('2026-12-06T04:00:01Z'));
    expect(pointLatestAt(a)).toBe(true);
    expect(pointLatestAt(b)).toBe(true);
    expect(readlinkSync(join(root, 'latest'))).toBe(basename(b));
    expect(realpathSync(join(root, 'latest'))).toBe(realpathSync(b));
  });

  it('leaves a real folder named latest alone and says so', () => {
    const other = mkdtempSync(join(tmpdir(), 'muon-tfjs-runs-'));
    mkdirSync(join(other, 'latest'));
    writeFileSync(join(other, 'latest', 'mine'), 'kept');
    expect(pointLatestAt(createRunDirectory(other, 'quick'))).toBe(false);
    expect(readFileSync(join(other, 'latest', 'mine'), 'utf8')).toBe('kept');
    expect(readdirSync(other).filter((name) => name.startsWith('.latest'))).toEqual([]);
  });
});
