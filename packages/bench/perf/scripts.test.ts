import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Each script as `npm run bench:*` starts it: --help prints its usage and exits at once, an unknown
// flag exits with status 2 before anything is measured. The eighteen runs go in parallel (each is a tsx
// start-up and the scripts' imports, a few seconds).
const tsx = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));
const run = (script: string, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> =>
  new Promise((done) => {
    execFile(tsx, ['--conditions=muon-tfjs-source', fileURLToPath(new URL(script, import.meta.url)), ...args], { encoding: 'utf8', timeout: 120_000 }, (error, stdout, stderr) =>
      done({ status: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout, stderr }),
    );
  });
const SCRIPTS = [
  ['./ns.ts', 'bench:ns'],
  ['./step.ts', 'bench:step'],
  ['./modelStep.ts', 'bench:model-step'],
  ['./workerThreads.ts', 'bench:workers'],
  ['./dion2Selection.ts', 'bench:dion2'],
  ['./gramRestarts.ts', 'bench:gram-restarts'],
  ['./browser/run.ts', 'bench:browser'],
  ['./gpu/run.ts', 'bench:gpu'],
  ['./hybridDefaults.ts', 'bench:hybrid-defaults'],
] as const;

describe('the bench:* scripts parse their command line first', () => {
  it('--help prints the usage and exits 0; --bogus exits 2 with the error and the usage', async () => {
    const results = await Promise.all(SCRIPTS.map(async ([script, command]) => ({ command, help: await run(script, ['--help']), bogus: await run(script, ['--bogus']) })));
    for (const { command, help, bogus } of results) {
      expect(help.status, command).toBe(0);
      expect(help.stdout).toMatch(new RegExp(`^Usage: npm run ${command} \\[-- options\\]\\n[^]*-h, --help +this text\\n$`));
      expect(bogus.status, command).toBe(2);
      expect(bogus.stderr).toMatch(/^Unknown option '--bogus'[^]*Usage: /);
      expect(bogus.stdout).toBe('');
    }
  }, 180_000);
});
