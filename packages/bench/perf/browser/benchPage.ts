/**
 * The harness of the browser benchmarks (`npm run bench:browser`, `npm run bench:gpu`): bundles a
 * page module with esbuild, serves it from 127.0.0.1 next to tfjs-backend-wasm's .wasm files, and
 * calls the function the page puts on `globalThis` in a fresh browser context of Debian's
 * Chromium, driven headless by playwright-core.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import { type Browser, chromium } from 'playwright-core';

/** Where Debian's `chromium` package puts the browser (`apt-get install -y chromium`). */
export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

/** The bundled page module, ready to serve. */
export interface PageBundle {
  readonly code: string;
}

/**
 * Bundles `entry` for the browser. The library is taken from its TypeScript sources (the
 * `muon-tfjs-source` condition of its exports map, as tsx and the playground's build do), so no
 * `npm run build` is needed first.
 */
export async function bundlePage(entry: string): Promise<PageBundle> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser', // honours tfjs's "browser" field: no fs/os/worker_threads in the bundle
    conditions: ['muon-tfjs-source'],
    target: 'chrome120',
    write: false,
    logLevel: 'warning',
  });
  const file = result.outputFiles[0];
  if (file === undefined) throw new Error('esbuild produced no output');
  return { code: file.text };
}

/** A served bundle; `served` lists the .wasm files the pages fetched since it was last emptied. */
export interface PageServer {
  readonly origin: string;
  readonly served: string[];
  close(): Promise<void>;
}

/**
 * Serves the bundle on 127.0.0.1: `/isolated/` with Cross-Origin-Opener-Policy: same-origin and
 * Cross-Origin-Embedder-Policy: require-corp (what makes SharedArrayBuffer, hence wasm threads,
 * available), `/unisolated/` without them, the bundle as `/bench.js` and the tfjs-backend-wasm
 * binaries under `/wasm/`.
 */
export async function servePage(bundle: PageBundle): Promise<PageServer> {
  const served: string[] = [];
  const wasmDir = join(dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
  const html = '<!doctype html><meta charset="utf-8"><title>muon-tfjs browser bench</title><script type="module" src="/bench.js"></script>';
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
    const isolation = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
    const send = (type: string, body: string | Buffer, headers: Record<string, string> = {}): void => {
      response.writeHead(200, { 'Content-Type': type, 'Cache-Control': 'no-store', 'Cross-Origin-Resource-Policy': 'same-origin', ...headers });
      response.end(body);
    };
    if (path === '/isolated/') send('text/html', html, isolation);
    else if (path === '/unisolated/') send('text/html', html);
    else if (path === '/bench.js') send('text/javascript', bundle.code, isolation);
    else if (/^\/wasm\/tfjs-backend-wasm[a-z-]*\.wasm$/.test(path) && existsSync(join(wasmDir, path.slice(6)))) {
      served.push(path.slice(6));
      send('application/wasm', readFileSync(join(wasmDir, path.slice(6))), isolation);
    } else if (path === '/favicon.ico') {
      response.writeHead(204);
      response.end();
    } else {
      response.writeHead(404);
      response.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { origin: `http://127.0.0.1:${port}`, served, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Starts headless Chromium; exits the process with a plain message where the binary is absent. */
export async function launchChromium(executablePath: string, args: readonly string[] = []): Promise<Browser> {
  if (!existsSync(executablePath)) {
    console.error(`Chromium not found at ${executablePath}. On Debian/Ubuntu install the apt package "chromium" (apt-get install -y chromium), or pass --chromium <path to a Chromium or Chrome binary>.`);
    process.exit(1);
  }
  return chromium.launch({ executablePath, headless: true, args: [...args] });
}

/** One call of a page's benchmark function. */
export interface PageCall {
  /** Prefixes the page's console lines. */
  readonly label: string;
  readonly isolated: boolean;
  /** The name of the function the page defines on `globalThis`. */
  readonly entry: string;
  /** Its one argument, passed as JSON. */
  readonly config: unknown;
}

/**
 * Opens the page in a fresh browser context (backends keep process-wide state: wasm's thread
 * count, a WebGL context), waits for its function and returns what that function resolves to.
 */
export async function callPage(browser: Browser, origin: string, call: PageCall): Promise<unknown> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    page.on('console', (message) => console.log(`  [${call.label}] ${message.text()}`));
    page.on('pageerror', (error) => console.error(`  [${call.label}] page error: ${error.message}`));
    await page.goto(`${origin}/${call.isolated ? 'isolated' : 'unisolated'}/`);
    await page.waitForFunction(`'${call.entry}' in globalThis`);
    // A string expression, not a function: tsx's transform could add helpers to a function's source.
    return await page.evaluate(`globalThis.${call.entry}(${JSON.stringify(call.config)})`);
  } finally {
    await context.close();
  }
}

/** playwright-core's version, for the results. */
export function playwrightVersion(): string {
  return (createRequire(import.meta.url)('playwright-core/package.json') as { version: string }).version;
}
