import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The engine (native/src, plain C++) built and tested without Node: test/run.sh compiles
// test/engine_test.cc with the engine's sources and runs it, over OpenBLAS and, where it links,
// oneDNN. It needs a C++ compiler and OpenBLAS's headers, as the addon does; without them the test
// is skipped with the reason, unless MUON_TFJS_REQUIRE_NATIVE=1 (CI) makes their absence a failure.
const script = fileURLToPath(new URL('./test/run.sh', import.meta.url));
const compiler = process.env.CXX ?? 'c++';
const required = process.env.MUON_TFJS_REQUIRE_NATIVE === '1';

function toolchainMissing(): string | undefined {
  const probe = spawnSync(compiler, ['-x', 'c++', '-fsyntax-only', '-'], { input: '#include <cblas.h>\nint main() { return 0; }\n', encoding: 'utf8' });
  if (probe.error !== undefined) return `no C++ compiler (${compiler})`;
  if (probe.status !== 0) return 'no OpenBLAS headers (cblas.h; Debian: libopenblas-dev)';
  return undefined;
}
const missing = toolchainMissing();

describe('the native engine without Node (native/test/run.sh)', () => {
  it.runIf(missing !== undefined)(`cannot be built here (${missing ?? ''})${required ? '' : ': skipped'}`, () => {
    expect(required, `MUON_TFJS_REQUIRE_NATIVE=1 but ${missing ?? ''}`).toBe(false);
  });

  it.runIf(missing === undefined)(
    'builds with the system compiler and passes every check of test/engine_test.cc',
    async () => {
      // Asynchronously: a minute of compiling must not block the test worker's event loop.
      const run = await new Promise<{ status: number; output: string }>((resolve) => {
        execFile('bash', [script, mkdtempSync(join(tmpdir(), 'muon-engine-test-'))], { encoding: 'utf8', maxBuffer: 1 << 24 }, (error, stdout, stderr) => {
          resolve({ status: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, output: `${stdout}${stderr}` });
        });
      });
      const { output } = run;
      expect(output.split('\n').filter((line) => line.startsWith('FAIL')), output).toEqual([]);
      expect(run.status, output).toBe(0);
      expect(output).toMatch(/== openblas\n[^]*?all passed\n/);
      // Every case of the program ran (oneDNN's too where it links): the diagonal and Gaussian
      // cases per library, three fused steps and three over packed bfloat16 momentum (two checks
      // each), the packed step's planted roundings and its threaded pass, and the spectrum.
      const checks = output.split('\n').filter((line) => line.startsWith('ok '));
      expect(checks.filter((line) => line.includes('muonStep')).length % 14).toBe(0);
      expect(checks.length).toBeGreaterThanOrEqual(16 + 2 + 14 + 1);
    },
    300_000,
  );
});
