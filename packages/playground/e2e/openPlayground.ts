/**
 * Drives the playground in Debian's headless Chromium through playwright-core (no browser
 * download): builds the site once, serves it with COOP/COEP, and runs pages under the automation
 * contract. Shared by the e2e tests and `npm run bench:playground`.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildSite, SITE_DIR } from '../scripts/buildSite.js';
import { serveSite } from '../scripts/serveSite.js';
import type { PlaygroundStatus } from '../src/playgroundStatus.js';

/** Where Debian's `chromium` package puts the browser (`apt-get install -y chromium`). */
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** A served site and a browser; `close` ends both. */
export interface PlaygroundSession {
  readonly origin: string;
  readonly browser: Browser;
  close(): Promise<void>;
}

export async function startSession(): Promise<PlaygroundSession> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium, or set CHROMIUM`);
  await buildSite({ minify: true, data: true });
  const server = await serveSite(SITE_DIR);
  // SwiftShader gives WebGL without a GPU; --enable-unsafe-webgpu lets WebGPU start where an adapter exists.
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--enable-unsafe-webgpu'] });
  return { origin: server.origin, browser, close: async () => { await browser.close(); await server.close(); } };
}

/** Opens `query` and collects the page's console errors and uncaught exceptions. */
export async function openPage(session: PlaygroundSession, query: string): Promise<{ page: Page; errors: string[] }> {
  const page = await session.browser.newPage({ viewport: { width: 1400, height: 1300 } });
  const errors: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${session.origin}/${query}`);
  return { page, errors };
}

/** Waits until the page reports `done` (or an error) and returns its status. */
export async function waitDone(page: Page, timeoutMs: number): Promise<PlaygroundStatus> {
  await page.waitForFunction('window.playgroundStatus && (window.playgroundStatus.done || window.playgroundStatus.error !== null)', undefined, { timeout: timeoutMs, polling: 250 });
  return (await page.evaluate('window.playgroundStatus')) as PlaygroundStatus;
}
