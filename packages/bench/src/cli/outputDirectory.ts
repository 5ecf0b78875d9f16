import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { resolve } from 'node:path';

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
