import { existsSync } from 'node:fs';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';

/**
 * Runs library code where only a browser has it (WebGL): `entry`, a page module that puts its
 * functions on `globalThis`, is bundled with esbuild and loaded into Debian's headless Chromium
 * on SwiftShader (a CPU implementation of the GPU; its speed means nothing, its float32 does).
 */
export const CHROMIUM = process.env['CHROMIUM'] ?? '/usr/bin/chromium';

/** Why these tests cannot run here, or undefined where Chromium exists. */
export const CHROMIUM_MISSING: string | undefined = existsSync(CHROMIUM) ? undefined : `no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM)`;

/** Bundles `entry`, waits for `globalThis[ready]`, and returns what `expression` (awaited in the page) gives. */
export async function evaluateInChromium<T>(entry: string, ready: string, expression: string): Promise<T> {
  const bundle = await build({ entryPoints: [entry], bundle: true, format: 'esm', platform: 'browser', target: 'chrome120', write: false, logLevel: 'warning' });
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--use-angle=swiftshader', '--enable-unsafe-swiftshader'] });
  try {
    const page = await browser.newPage();
    await page.goto('about:blank');
    await page.addScriptTag({ content: bundle.outputFiles[0]?.text ?? '', type: 'module' });
    await page.waitForFunction(`${JSON.stringify(ready)} in globalThis`);
    return (await page.evaluate(expression)) as T;
  } finally {
    await browser.close();
  }
}
