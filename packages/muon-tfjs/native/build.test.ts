import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadNativeAddon } from '../src/kernels/nativeAddon.js';

// What `npm ci` / `npm install muon-tfjs` print from native/build.mjs, with a stand-in node-gyp (the
// `npm_config_node_gyp` that npm passes to install scripts) so that no compiler runs: the real
// build's ~35 lines of `gyp info` must not show on success, its whole log must on failure, and the
// last line must say which kernel Muon will run and the command that gets the native one.
const script = fileURLToPath(new URL('./build.mjs', import.meta.url));
const fakes = mkdtempSync(join(tmpdir(), 'muon-tfjs-gyp-'));

/** A node-gyp stand-in that prints `lines` of log and exits with `code`. */
function fakeNodeGyp(name: string, lines: string[], code: number): string {
  const path = join(fakes, `${name}.mjs`);
  writeFileSync(path, `${lines.map((l) => `console.log(${JSON.stringify(l)});`).join('\n')}\nprocess.exit(${code});\n`);
  return path;
}

function runBuild(env: Record<string, string>): { status: number | null; lines: string[] } {
  const { MUON_TFJS_REQUIRE_NATIVE: _required, MUON_TFJS_SKIP_NATIVE: _skipped, ...inherited } = process.env;
  const run = spawnSync(process.execPath, [script], { env: { ...inherited, ...env }, encoding: 'utf8' });
  return { status: run.status, lines: `${run.stdout}${run.stderr}`.trimEnd().split('\n') };
}

const gypInfo = Array.from({ length: 35 }, (_, i) => `gyp info line ${i}`);

describe('native/build.mjs output', () => {
  it.runIf(loadNativeAddon().available)('on success: one line naming the native kernel, no gyp log', () => {
    const { status, lines } = runBuild({ npm_config_node_gyp: fakeNodeGyp('ok', gypInfo, 0) });
    expect(status).toBe(0);
    expect(lines).toEqual([expect.stringMatching(/^muon-tfjs: native kernel built \(.*OpenBLAS.*\): Muon will run it in Node/) as unknown]);
  });

  it('on failure: the whole log, then one line with the kernel that runs and the command that gets the native one', () => {
    const { status, lines } = runBuild({ npm_config_node_gyp: fakeNodeGyp('fails', [...gypInfo, 'gyp ERR! cblas.h: no such file'], 1) });
    expect(status).toBe(0); // the addon is optional
    expect(lines.slice(0, -1)).toEqual([...gypInfo, 'gyp ERR! cblas.h: no such file']);
    expect(lines.at(-1)).toBe(
      'muon-tfjs: the native kernel is not built (node-gyp failed with exit 1, log above; it needs a C++ compiler and OpenBLAS): ' +
        'Muon will run its TF.js kernels, slower in Node; to get it: sudo apt-get install -y g++ make python3 libopenblas-dev && npm run build:native',
    );
  });

  it('skipped on request: one line with the command', () => {
    const { status, lines } = runBuild({ MUON_TFJS_SKIP_NATIVE: '1' });
    expect(status).toBe(0);
    expect(lines).toEqual(['muon-tfjs: the native kernel is not built (skipped, MUON_TFJS_SKIP_NATIVE=1): Muon will run its TF.js kernels, slower in Node; to get it: npm run build:native']);
  });

  it('with MUON_TFJS_REQUIRE_NATIVE=1 (CI) a failed build is an error', () => {
    const { status, lines } = runBuild({ MUON_TFJS_REQUIRE_NATIVE: '1', npm_config_node_gyp: fakeNodeGyp('fails', ['gyp ERR! boom'], 1) });
    expect(status).toBe(1);
    expect(lines).toEqual(['gyp ERR! boom', 'muon-tfjs native kernel: node-gyp failed with exit 1, log above; it needs a C++ compiler and OpenBLAS (MUON_TFJS_REQUIRE_NATIVE=1)']);
  });
});
