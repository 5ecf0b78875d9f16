import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadNativeAddon } from '../src/kernels/nativeAddon.js';

/**
 * End to end, as a user gets the library: `npm pack` of packages/muon-tfjs, the tarball installed
 * with the README's package set into an empty CommonJS project (`npm init -y`) and an empty ESM
 * project (`"type": "module"`), and the README's examples type-checked there by `tsc --strict`
 * against the packed declarations (.d.cts for `require`, .d.ts for `import`) and run with `node`.
 * npm installs from its cache first (`--prefer-offline`: the packages are those of this
 * repository's lock file, cached by `npm ci`), and the package's install script builds the native
 * kernel as it does for users. Slow (about a minute: two installs, two native builds, two tsc runs).
 */
const library = fileURLToPath(new URL('..', import.meta.url));
const root = fileURLToPath(new URL('../../..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'muon-tfjs-package-'));

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}
function run(command: string, args: readonly string[], cwd: string, env: Record<string, string> = {}): Promise<Run> {
  return new Promise((done) => {
    execFile(command, args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 64 << 20, timeout: 600_000 }, (error, stdout, stderr) =>
      done({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr }),
    );
  });
}
async function ok(command: string, args: readonly string[], cwd: string, env?: Record<string, string>): Promise<string> {
  const r = await run(command, args, cwd, env);
  if (r.code !== 0) throw new Error(`${command} ${args.join(' ')} (in ${cwd}) exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** The README's install line: `npm install muon-tfjs <the package set>`. */
function readmePackageSet(): string[] {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const line = /^npm install muon-tfjs (.+)$/m.exec(readme);
  if (line === null) throw new Error('README.md has no `npm install muon-tfjs ...` line');
  return (line[1] as string).split(/\s+/);
}

/** A version this repository's lock file pins, so that npm finds it in its cache. */
function lockedVersion(name: string): string {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string }> };
  const version = lock.packages[`node_modules/${name}`]?.version;
  if (version === undefined) throw new Error(`${name} is not in package-lock.json`);
  return `${name}@${version}`;
}

// Which kernel the examples must report: the native one when this checkout could build it.
const expectedKernel = process.env.MUON_TFJS_DISABLE_NATIVE !== '1' && loadNativeAddon().available ? 'native' : 'tfjs';

interface Packed {
  readonly filename: string;
  readonly size: number;
  readonly unpackedSize: number;
  readonly files: readonly { path: string }[];
}
let packed: Packed;
const projects = { commonjs: join(work, 'commonjs'), module: join(work, 'module') };

/** One empty project of that module type with the tarball and the README's package set. */
async function installProject(type: 'commonjs' | 'module', tarball: string): Promise<void> {
  const dir = projects[type];
  await ok('mkdir', ['-p', dir], work);
  await ok('npm', ['init', '-y'], dir);
  await ok('npm', ['pkg', 'set', `type=${type}`], dir);
  const set = readmePackageSet().map(lockedVersion);
  await ok('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball, ...set, lockedVersion('typescript'), lockedVersion('@types/node')], dir);
}

/** tsc --strict, as `tsc --init` configures a Node project (skipLibCheck: tfjs's own .d.ts do not pass strict). */
function tsconfig(files: string[], emit: boolean): string {
  const options = { strict: true, skipLibCheck: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', lib: ['es2022', 'dom'], types: ['node'] };
  return JSON.stringify({ compilerOptions: emit ? { ...options, outDir: 'out' } : { ...options, allowJs: true, checkJs: true, noEmit: true }, include: files }, null, 2);
}

/** Checks run in both projects: the second entry point, and one tfjs-core shared with the user's tfjs. */
const PROBE = {
  commonjs: `const tf = require('@tensorflow/tfjs'); const m = require('muon-tfjs'); const d = require('muon-tfjs/diagnostics');
console.log(JSON.stringify({ optimizer: m.muon() instanceof tf.Optimizer, registered: 'MuonWithAdamWOptimizer' in tf.serialization.SerializationMap.getMap().classNameMap, diagnostics: typeof d.polarFactor }));`,
  module: `import * as tf from '@tensorflow/tfjs'; import * as m from 'muon-tfjs'; import * as d from 'muon-tfjs/diagnostics';
console.log(JSON.stringify({ optimizer: m.muon() instanceof tf.Optimizer, registered: 'MuonWithAdamWOptimizer' in tf.serialization.SerializationMap.getMap().classNameMap, diagnostics: typeof d.polarFactor }));`,
};

describe('the packed library in empty CommonJS and ESM projects', () => {
  beforeAll(async () => {
    const out = await ok('npm', ['pack', '--json', '--pack-destination', work], library);
    // The prepack build prints a line before npm's JSON.
    packed = (JSON.parse(out.slice(out.search(/^\[/m))) as Packed[])[0] as Packed;
    const tarball = join(work, packed.filename);
    await Promise.all([installProject('commonjs', tarball), installProject('module', tarball)]);
    for (const file of ['modelFit.ts', 'customLoop.ts']) copyFileSync(join(library, 'examples', file), join(projects.module, file));
    copyFileSync(join(library, 'examples', 'commonJs.cjs'), join(projects.commonjs, 'commonJs.cjs'));
    writeFileSync(join(projects.module, 'tsconfig.json'), tsconfig(['modelFit.ts', 'customLoop.ts'], true));
    writeFileSync(join(projects.commonjs, 'tsconfig.json'), tsconfig(['commonJs.cjs'], false));
  }, 600_000);

  it('the tarball holds the library only: dist (ESM, CommonJS, both declarations), the native sources, README, LICENSE', () => {
    const paths = packed.files.map((f) => f.path);
    for (const path of paths) {
      expect(path).toMatch(/^(dist\/.+\.(js|cjs|d\.ts|d\.cts)|native\/src\/[a-z0-9_]+\.(cc|h)|native\/binding\.gyp|native\/build\.mjs|README\.md|LICENSE|package\.json)$/);
      expect(path).not.toMatch(/\.test\.|\/testing\/|bench|\/cli\/|\.map$/);
    }
    for (const entry of ['index', 'diagnostics']) {
      for (const ext of ['js', 'cjs', 'd.ts', 'd.cts']) expect(paths).toContain(`dist/${entry}.${ext}`);
    }
    console.log(`npm pack: ${packed.filename}, ${(packed.size / 1e3).toFixed(1)} kB packed, ${(packed.unpackedSize / 1e3).toFixed(1)} kB unpacked, ${paths.length} files`);
  });

  it("the README's sizes are the tarball's, within 10 %", () => {
    // A newcomer reads these figures before installing; 10 % lets a small change pass and makes a
    // real growth update the README.
    const claim = /about (\d+) kB packed, ([\d.]+) MB unpacked, (\d+) files/.exec(readFileSync(join(root, 'README.md'), 'utf8'));
    expect(claim, "README's 'about N kB packed, M MB unpacked, K files'").not.toBeNull();
    const [packedKb, unpackedMb, files] = (claim as RegExpExecArray).slice(1).map(Number) as [number, number, number];
    expect(Math.abs(packed.size / 1e3 - packedKb) / packedKb).toBeLessThan(0.1);
    expect(Math.abs(packed.unpackedSize / 1e6 - unpackedMb) / unpackedMb).toBeLessThan(0.1);
    expect(Math.abs(packed.files.length - files) / files).toBeLessThan(0.1);
  });

  it('CommonJS: the README example type-checks (tsc --strict, checkJs) and runs with require, on the expected kernel', async () => {
    const dir = projects.commonjs;
    expect(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))).toMatchObject({ type: 'commonjs' });
    await ok(join(dir, 'node_modules/.bin/tsc'), ['-p', '.'], dir);
    const out = await ok('node', ['commonJs.cjs'], dir);
    expect(out).toContain(`kernel: '${expectedKernel}'`);
    const [, first, last] = /loss (\S+) → (\S+)/.exec(out) ?? [];
    expect(Number(last)).toBeLessThan(0.1 * Number(first));
    expect(JSON.parse(await ok('node', ['-e', PROBE.commonjs], dir))).toEqual({ optimizer: true, registered: true, diagnostics: 'function' });
  }, 300_000);

  it('ESM: the README examples type-check (tsc --strict) and run with import', async () => {
    const dir = projects.module;
    await ok(join(dir, 'node_modules/.bin/tsc'), ['-p', '.'], dir);
    for (const [example, factor] of [['modelFit', 0.5], ['customLoop', 1e-2]] as const) {
      const out = await ok('node', [`out/${example}.js`], dir);
      const [, first, last] = /loss (\S+) → (\S+)/.exec(out) ?? [];
      expect(Number(last), example).toBeLessThan(factor * Number(first));
    }
    expect(JSON.parse(await ok('node', ['--input-type=module', '-e', PROBE.module], dir))).toEqual({ optimizer: true, registered: true, diagnostics: 'function' });
    const kernel = await ok('node', ['--input-type=module', '-e', "import { describeFastestOrthogonalizer } from 'muon-tfjs'; import '@tensorflow/tfjs-backend-wasm'; import * as tf from '@tensorflow/tfjs'; await tf.setBackend('wasm'); console.log(describeFastestOrthogonalizer().kernel);"], dir);
    expect(kernel.trim().split('\n').at(-1)).toBe(expectedKernel);
  }, 300_000);
});
