import { accessSync, constants, mkdirSync, renameSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

/**
 * Creates `dir` (with its parents) and checks that files can be written there, so that a bad
 * `--out` fails at once instead of after the benchmark's minutes of training. Returns the absolute
 * path; throws an error naming `--out` and the reason otherwise.
 * @example
 * const out = prepareOutputDirectory('bench-results'); // → '/path/to/bench-results'
 */
export function prepareOutputDirectory(dir: string): string {
  const path = resolve(dir);
  try {
    mkdirSync(path, { recursive: true });
    if (!statSync(path).isDirectory()) throw new Error('not a folder');
    accessSync(path, constants.W_OK);
  } catch (error) {
    const reason = error instanceof Error ? ((error as NodeJS.ErrnoException).code ?? error.message) : String(error);
    throw new Error(`--out ${dir}: cannot write there (${reason}); choose a writable folder`);
  }
  return path;
}

/** A run folder's name: the UTC time it started, to the second (sorts by time), then its mode. */
export function runFolderName(started: Date, mode: string): string {
  return `${started.toISOString().slice(0, 19).replace(/:/g, '-')}Z-${mode}`;
}

/**
 * Makes the folder of one run inside `root` (`--out`, created and checked by
 * {@link prepareOutputDirectory}): `<date>T<time>Z-<mode>`, or with `-2`, `-3`, … appended when a run
 * of that second already has it. Each name is claimed by a `mkdir` that fails on an existing
 * folder, so no run writes into another's folder, even two started in the same second by two
 * processes. Returns its absolute path.
 * @example
 * createRunDirectory('bench-results', 'quick') // → '/path/to/bench-results/2026-12-06T03-40-12Z-quick'
 */
export function createRunDirectory(root: string, mode: string, started = new Date()): string {
  const parent = prepareOutputDirectory(root);
  const name = runFolderName(started, mode);
  for (let n = 1; ; n++) {
    const path = join(parent, n === 1 ? name : `${name}-${n}`);
    try {
      mkdirSync(path);
      return path;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}

/**
 * Points `<root>/latest` at a finished run's folder: a relative symbolic link, swapped in by a
 * rename, so that a reader never sees it missing. Returns false (and changes nothing) where links
 * cannot be made (Windows without the privilege): the run's folder is still printed.
 */
export function pointLatestAt(runDirectory: string): boolean {
  const parent = dirname(runDirectory);
  const staging = join(parent, `.latest-${process.pid}`);
  try {
    rmSync(staging, { force: true });
    symlinkSync(basename(runDirectory), staging, 'dir');
    renameSync(staging, join(parent, 'latest'));
    return true;
  } catch {
    rmSync(staging, { force: true });
    return false;
  }
}
