/**
 * End-to-end tests of the playground in real headless Chromium (Debian's `chromium`, driven by
 * playwright-core; WebGL through SwiftShader): the page loads without console errors, every task
 * trains 50 steps on wasm and on WebGL and its losses fall, every chart holds data and paints,
 * the URL state round-trips; Dion2 trains beside Muon and AdamW; `auto` passes over software
 * GPUs, WebGPU trains, a diverged run is named while the others train on, and the Train/Pause
 * button follows the state. Screenshots go to docs/playground/. Run by `npm run test:e2e` (and by .ci/run, which installs chromium).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseState, type OptimizerId } from '../src/playgroundState.js';
import type { PlaygroundStatus } from '../src/playgroundStatus.js';
import { CHROMIUM, openPage, startSession, waitDone, type PlaygroundSession } from './openPlayground.js';
import { PLAYGROUND_ROOT } from '../scripts/buildSite.js';

const SCREENSHOTS = join(PLAYGROUND_ROOT, '..', '..', 'docs', 'playground');
const STEPS = 50;
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Canvases of the page with painted (not background) pixels, by id or class of their chart. */
async function paintedCanvases(page: Page): Promise<number> {
  return (await page.evaluate(`[...document.querySelectorAll('#charts canvas')].filter((c) => {
    if (c.width === 0 || c.height === 0 || c.closest('[hidden]')) return false;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let coloured = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && Math.max(Math.abs(d[i] - d[i + 1]), Math.abs(d[i + 1] - d[i + 2])) > 40) coloured++;
    return coloured > 50;
  }).length`)) as number;
}

function expectLossesFall(status: PlaygroundStatus, optimizers: readonly string[]): void {
  expect(status.error).toBeNull();
  expect(status.step).toBe(STEPS);
  for (const id of optimizers) {
    const losses = status.losses[id as OptimizerId] ?? [];
    expect(losses.length, id).toBe(STEPS);
    // The mean of the last 10 batch losses below the mean of the first 10: falling, beyond batch noise.
    expect(mean(losses.slice(-10)), id).toBeLessThan(mean(losses.slice(0, 10)));
    const heldOut = status.heldOut[id as OptimizerId] ?? [];
    expect((heldOut.at(-1) as [number, number])[1], `${id} held-out`).toBeLessThan((heldOut[0] as [number, number])[1]);
  }
}

describe.skipIf(!existsSync(CHROMIUM))(`playground in headless Chromium (${CHROMIUM})`, () => {
  let session: PlaygroundSession;
  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    session = await startSession();
  });
  afterAll(async () => {
    await session?.close();
  });

  // wasm trains all three optimizers; WebGL (SwiftShader, a CPU emulation of a GPU) only Muon and
  // AdamW, the comparison that matters, to keep the suite to a few minutes.
  const cases = [
    ...(['toy', 'mlp', 'convnet', 'transformer'] as const).map((task) => ({ task, backend: 'wasm', optimizers: ['muon', 'adamw', 'lion'] })),
    ...(['toy', 'mlp', 'convnet', 'transformer'] as const).map((task) => ({ task, backend: 'webgl', optimizers: ['muon', 'adamw'] })),
  ];
  it.each(cases)('$task on $backend trains $optimizers with falling losses and non-empty charts', async ({ task, backend, optimizers }) => {
    const { page, errors } = await openPage(session, `?task=${task}&backend=${backend}&optimizers=${optimizers.join(',')}&steps=${STEPS}&spectrumEvery=10&autostart=1`);
    try {
      const status = await waitDone(page, 230_000);
      expect(status.backend).toBe(backend);
      // The library's probe sees float32 storage here, where tfjs-backend-webgl 4.22's own
      // floatPrecision() says 16: with that answer every WebGL user's default ε would be refused.
      expect(status.floatPrecision).toBe(32);
      expectLossesFall(status, optimizers);
      expect(status.charts.loss).toBe(STEPS * optimizers.length);
      expect(status.charts.histogram).toBeGreaterThanOrEqual(3); // momentum, NS output, AdamW's update
      expect(status.charts.quantiles).toBe(STEPS / 10);
      expect(status.charts.polynomial).toBe(5);
      if (task === 'toy') expect(status.charts.boundaries).toBe(optimizers.length);
      // Loss, histogram, quantiles and polynomial charts, plus one decision boundary per optimizer on the toy task.
      expect(await paintedCanvases(page)).toBeGreaterThanOrEqual(4 + (task === 'toy' ? optimizers.length : 0));
      await page.screenshot({ path: join(SCREENSHOTS, `${task}-${backend}.png`), fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('trains Dion2 beside Muon and AdamW on the MNIST MLP (optimizers=muon,adamw,dion2), its update in the spectra', async () => {
    const optimizers = ['muon', 'adamw', 'dion2'];
    const { page, errors } = await openPage(session, `?task=mlp&backend=wasm&optimizers=${optimizers.join(',')}&steps=${STEPS}&spectrumEvery=10&autostart=1`);
    try {
      const status = await waitDone(page, 230_000);
      expect(status.backend).toBe('wasm');
      expectLossesFall(status, optimizers);
      expect(status.divergence).toEqual({});
      // Muon's momentum and NS output, and the updates of AdamW and Dion2.
      expect(status.charts.histogram).toBe(4);
      expect(await page.isChecked('#use-dion2')).toBe(true);
      expect(await page.isChecked('#use-lion')).toBe(false);
      expect(await page.textContent('#speed')).toContain('Dion2 (+AdamW)');
      expect(new URL(page.url()).searchParams.get('optimizers')).toBe('muon,adamw,dion2');
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('auto picks wasm where the only GPUs are software, names ignored URL values, and trains on past a diverged run', async () => {
    // Lion at lr 1e30 diverges at its second step; 'colour' is no setting of the page.
    const { page, errors } = await openPage(session, `?task=toy&backend=auto&optimizers=muon,adamw,lion&lionLr=1e30&lionSchedule=constant&colour=red&steps=${STEPS}&autostart=1`);
    try {
      const status = await waitDone(page, 120_000);
      // Headless Chromium here has WebGPU and WebGL only on SwiftShader, a CPU emulation of a GPU.
      expect(status.backend).toBe('wasm');
      expect(status.backendReason).toMatch(/WebGPU is a software GPU \(google swiftshader\)/);
      expect(status.backendReason).toMatch(/WebGL is a software GPU \(.*SwiftShader/);
      expect(await page.textContent('#backend-note')).toContain('Runs on wasm: auto');
      expectLossesFall(status, ['muon', 'adamw']);
      expect(status.divergence).toEqual({ lion: 'Lion diverged: lower its learning rate' });
      expect(status.ignoredUrlValues).toEqual(['colour=red (not a setting of the page)']);
      const notices = await page.textContent('#notices');
      expect(notices).toContain('Ignored in the link: colour=red');
      expect(notices).toContain('Lion diverged: lower its learning rate');
      expect(await page.textContent('#run')).toBe('Done');
      expect(await page.isDisabled('#run')).toBe(true);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('webgpu (SwiftShader adapter) trains to done with falling losses, reading nothing synchronously', async () => {
    const { page, errors } = await openPage(session, `?task=toy&backend=webgpu&optimizers=muon,adamw&steps=${STEPS}&spectrumEvery=10&autostart=1`);
    try {
      const status = await waitDone(page, 230_000);
      expect(status.backend).toBe('webgpu');
      expect(status.backendReason).toBe('chosen in the link or the Backend control');
      expectLossesFall(status, ['muon', 'adamw']);
      expect(status.charts.quantiles).toBe(STEPS / 10);
      expect(status.charts.boundaries).toBe(2);
      expect(await paintedCanvases(page)).toBeGreaterThanOrEqual(4 + 2);
      // Not in docs/: a software adapter's page is no picture of WebGPU to publish.
      await page.screenshot({ path: join(tmpdir(), 'playground-toy-webgpu.png'), fullPage: true });
      // TF.js warns on a synchronous read on WebGPU ("...is slow"); none may happen in the loop.
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('pausing says Train, and Train resumes to done', async () => {
    // Enough steps that the click lands before the run ends: on an idle machine the toy task's
    // AdamW steps run 400 steps between the poll below and the click (CI saw 'Done' at 400).
    const steps = 4000;
    const { page, errors } = await openPage(session, `?task=toy&backend=wasm&optimizers=adamw&steps=${steps}&autostart=1`);
    try {
      await page.waitForFunction('window.playgroundStatus.step > 20', undefined, { polling: 50 });
      expect(await page.textContent('#run')).toBe('Pause');
      await page.click('#run');
      expect(await page.textContent('#run')).toBe('Train');
      const paused = (await page.evaluate('window.playgroundStatus.step')) as number;
      await page.waitForTimeout(300);
      expect(await page.evaluate('window.playgroundStatus.step')).toBe(paused);
      await page.click('#run');
      expect(await page.textContent('#run')).toBe('Pause');
      const status = await waitDone(page, 120_000);
      expect(status.step).toBe(steps);
      expect(await page.textContent('#run')).toBe('Done');
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('keeps every setting in the URL: a link opens the same state, a changed control rewrites the link', async () => {
    const query = '?task=toy&dataset=xor&backend=wasm&optimizers=lion,muon&steps=20&seed=3&muonLr=0.05&muonSchedule=cosine&preset=polarExpress5&nsSteps=6&layer=hidden1/kernel&spectrumEvery=4&autostart=1';
    const { page, errors } = await openPage(session, query);
    try {
      await waitDone(page, 60_000);
      const shown = new URL(page.url()).search;
      expect(parseState(shown)).toEqual(parseState(query));
      expect(await page.inputValue('#preset')).toBe('polarExpress5');
      expect(await page.inputValue('#layer')).toBe('hidden1/kernel');
      expect(await page.isChecked('#use-adamw')).toBe(false);
      await page.selectOption('#preset', 'cesista5');
      await page.fill('#muon-lr', '0.07');
      await page.press('#muon-lr', 'Enter');
      await page.reload();
      await waitDone(page, 60_000);
      const reloaded = parseState(new URL(page.url()).search);
      expect(reloaded).toEqual({ ...parseState(query), preset: 'cesista5', settings: { ...parseState(query).settings, muon: { lr: 0.07, schedule: 'cosine' } } });
      expect(await page.inputValue('#preset')).toBe('cesista5');
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
