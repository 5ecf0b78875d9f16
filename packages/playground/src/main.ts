/**
 * The Muon playground page: trains one model per optimizer side by side in the page (yielding to
 * the browser every frame, so it never freezes), draws the loss curves, the spectra of one layer
 * and, on the toy task, the decision boundaries. Every setting lives in the URL.
 *
 * Automation contract (the e2e tests and `npm run bench:playground` use it): `?task=…&backend=…
 * &optimizers=…&steps=N&autostart=1` trains N steps without clicks, and
 * `window.playgroundStatus = { backend, step, done, losses: { <optimizer>: number[] } }` stays current.
 */
import '@tensorflow/tfjs-layers';
import { COEFFICIENT_PRESETS, backendFloatPrecision, resolveCoefficients, type CoefficientPreset } from 'muon-tfjs';
import { drawDecisionBoundary } from './charts/decisionBoundary.js';
import { lossChart } from './charts/lossChart.js';
import { polynomialChart } from './charts/polynomialChart.js';
import { quantileChart } from './charts/quantileChart.js';
import { spectrumHistogram } from './charts/spectrumHistogram.js';
import { type BackendTraits, FLOAT32_CPU, OPTIMIZER_STYLE } from './createOptimizer.js';
import { createPlaygroundTask, type PlaygroundTask, type TaskData } from './playgroundTask.js';
import { BACKEND_CHOICES, OPTIMIZER_IDS, SCHEDULES, TASK_DEFAULT_SETTINGS, TASK_IDS, TOY_DATASETS, parseState, serializeState, type OptimizerId, type PlaygroundState } from './playgroundState.js';
import { SideBySideTrainer, type LayerSpectra, type SpectraView } from './sideBySideTrainer.js';
import { fetchMnist, fetchMobyDick } from './siteData.js';
import { startBackend } from './startBackend.js';
import type { PlaygroundStatus } from './playgroundStatus.js';

declare global {
  interface Window {
    playgroundStatus: PlaygroundStatus;
  }
}

/** Time the loop may spend stepping before it yields to the browser (about two frames at 60 Hz). */
const FRAME_BUDGET_MS = 30;
const TASK_TITLES: Record<(typeof TASK_IDS)[number], string> = { toy: '2-D toy (decision boundary)', mlp: 'MNIST, MLP', convnet: 'MNIST, ConvNet', transformer: 'Moby Dick, char transformer' };

const status: PlaygroundStatus = {
  backend: '', floatPrecision: 32, step: 0, done: false, losses: {}, heldOut: {}, stepMs: {}, optimizerMs: {}, timings: {},
  charts: { loss: 0, histogram: 0, quantiles: 0, polynomial: 0, boundaries: 0 }, error: null,
};
window.playgroundStatus = status;

let state = parseState(location.search);
let running = false;
let trainer: SideBySideTrainer | undefined;
/** Set once the backend has started (the page reloads to change it). */
let backendTraits: BackendTraits = FLOAT32_CPU;
let task: PlaygroundTask | undefined;
let spectraHistory: LayerSpectra[] = [];
const data: { -readonly [K in keyof TaskData]: TaskData[K] } = {};

const $ = <T extends HTMLElement>(id: string): T => {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`the page has no #${id}`);
  return element as T;
};

function fail(error: unknown): void {
  running = false;
  status.error = error instanceof Error ? error.message : String(error);
  $('error').textContent = status.error;
  $('error').hidden = false;
  console.error(error);
}

/** The smallest step count the preset accepts (a designed list schedule cannot be truncated). */
function minimumNsSteps(preset: CoefficientPreset): number {
  return preset === 'jordan' ? 1 : resolveCoefficients(preset).iterations.length;
}

function view(): SpectraView {
  return { layer: state.layer || (task?.defaultLayer ?? ''), preset: state.preset, nsSteps: Math.max(state.nsSteps, minimumNsSteps(state.preset)) };
}

function setState(next: PlaygroundState): void {
  state = next;
  history.replaceState(null, '', serializeState(state));
}

// ---- controls -------------------------------------------------------------------------------

function field(label: string, input: HTMLElement, title = ''): HTMLElement {
  const wrap = document.createElement('label');
  wrap.className = 'field';
  wrap.title = title;
  wrap.append(Object.assign(document.createElement('span'), { textContent: label }), input);
  return wrap;
}

function select(id: string, options: readonly string[], value: string, onChange: (v: string) => void, labels: Record<string, string> = {}): HTMLSelectElement {
  const element = document.createElement('select');
  element.id = id;
  for (const o of options) element.append(new Option(labels[o] ?? o, o, false, o === value));
  element.addEventListener('change', () => onChange(element.value));
  return element;
}

function numberInput(id: string, value: number, step: string, onChange: (v: number) => void): HTMLInputElement {
  const element = Object.assign(document.createElement('input'), { id, type: 'number', value: String(value), step, min: '0' });
  element.addEventListener('change', () => {
    const v = Number(element.value);
    if (Number.isFinite(v) && v > 0) onChange(v);
    else element.value = String(value);
  });
  return element;
}

function renderControls(): void {
  const controls = $('controls');
  controls.replaceChildren();
  const section = (title: string): HTMLElement => {
    const s = document.createElement('fieldset');
    s.append(Object.assign(document.createElement('legend'), { textContent: title }));
    controls.append(s);
    return s;
  };
  const problem = section('Problem');
  problem.append(field('Task', select('task', TASK_IDS, state.task, (v) => {
    const taskId = v as PlaygroundState['task'];
    setState({ ...state, task: taskId, settings: TASK_DEFAULT_SETTINGS[taskId], layer: '' });
    void restart();
  }, TASK_TITLES)));
  if (state.task === 'toy') {
    problem.append(field('Data', select('dataset', TOY_DATASETS, state.dataset, (v) => {
      setState({ ...state, dataset: v as PlaygroundState['dataset'] });
      void restart();
    })));
  }
  problem.append(field('Steps', numberInput('steps', state.steps, '1', (v) => setState({ ...state, steps: Math.round(v) })), 'Training stops here; the schedules decay over this many steps.'));
  problem.append(field('Seed', numberInput('seed', state.seed, '1', (v) => {
    setState({ ...state, seed: Math.round(v) });
    void restart();
  }), 'Initial weights and batch order: the same for every optimizer.'));
  problem.append(field('Backend', select('backend', BACKEND_CHOICES, state.backend, (v) => {
    setState({ ...state, backend: v as PlaygroundState['backend'] });
    location.reload(); // the backend is chosen once, when the page starts
  })));
  if (status.backend === 'wasm') {
    problem.append(field('wasm threads', select('threads', ['0', '1', '2', '4', '8'], String(state.threads), (v) => {
      setState({ ...state, threads: Number(v) });
      location.reload();
    }, { 0: 'one per core' }), 'XNNPACK threads; fixed when the backend starts (the page reloads).'));
  }

  const optimizers = section('Optimizers');
  for (const id of OPTIMIZER_IDS) {
    const row = document.createElement('div');
    row.className = 'optimizer';
    row.style.borderLeftColor = OPTIMIZER_STYLE[id].color;
    const on = Object.assign(document.createElement('input'), { type: 'checkbox', id: `use-${id}`, checked: state.optimizers.includes(id) });
    on.addEventListener('change', () => {
      const chosen = OPTIMIZER_IDS.filter((o) => (o === id ? on.checked : state.optimizers.includes(o)));
      if (chosen.length === 0) {
        on.checked = true;
        return;
      }
      setState({ ...state, optimizers: chosen });
      void restart();
    });
    row.append(field(OPTIMIZER_STYLE[id].label, on));
    const settings = state.settings[id];
    row.append(field('lr', numberInput(`${id}-lr`, settings.lr, 'any', (v) => setState({ ...state, settings: { ...state.settings, [id]: { ...settings, lr: v } } })),
      id === 'muon' ? 'Learning rate of the Muon group; the AdamW group of the hybrid uses AdamW’s rate and schedule.' : ''));
    row.append(field('schedule', select(`${id}-schedule`, SCHEDULES, settings.schedule, (v) =>
      setState({ ...state, settings: { ...state.settings, [id]: { ...state.settings[id], schedule: v as PlaygroundState['settings'][OptimizerId]['schedule'] } } }))));
    optimizers.append(row);
  }

  const spectra = section('Spectra');
  const layers = trainer?.matrixWeights() ?? [];
  spectra.append(field('Layer', select('layer', layers, view().layer, (v) => {
    setState({ ...state, layer: v });
    spectraHistory = [];
    refreshSpectra();
  })));
  spectra.append(field('NS preset', select('preset', COEFFICIENT_PRESETS, state.preset, (v) => {
    const preset = v as CoefficientPreset;
    setState({ ...state, preset, nsSteps: Math.max(state.nsSteps, minimumNsSteps(preset)) });
    renderControls();
    refreshSpectra();
  }), 'Used by the spectra view at once, and by Muon itself from the next Reset.'));
  spectra.append(field('NS steps', numberInput('ns-steps', view().nsSteps, '1', (v) => {
    setState({ ...state, nsSteps: Math.max(Math.round(v), minimumNsSteps(state.preset)) });
    refreshSpectra();
  })));
  spectra.append(field('Every', numberInput('spectrum-every', state.spectrumEvery, '1', (v) => setState({ ...state, spectrumEvery: Math.round(v) })), 'Spectra are computed every this many steps.'));
}

// ---- charts ---------------------------------------------------------------------------------

let charts: {
  loss: ReturnType<typeof lossChart>;
  histogram: ReturnType<typeof spectrumHistogram>;
  quantiles: ReturnType<typeof quantileChart>;
  polynomial: ReturnType<typeof polynomialChart>;
} | undefined;

function buildCharts(): void {
  if (charts !== undefined) for (const chart of Object.values(charts)) chart.destroy();
  const runs = trainer?.runs ?? [];
  const histogramSeries = [
    { label: 'Muon: NS input (momentum)', color: '#0877bd' },
    { label: 'Muon: NS output', color: '#7b3294' },
    { label: 'AdamW: update', color: OPTIMIZER_STYLE.adamw.color },
    { label: 'Lion: update', color: OPTIMIZER_STYLE.lion.color },
  ];
  charts = {
    loss: lossChart($('loss-chart'), runs),
    histogram: spectrumHistogram($('histogram-chart'), histogramSeries),
    quantiles: quantileChart($('quantile-chart')),
    polynomial: polynomialChart($('polynomial-chart')),
  };
  const boundaries = $('boundaries');
  boundaries.replaceChildren();
  $('boundary-card').hidden = task?.toy === undefined;
  for (const run of runs) {
    const figure = document.createElement('figure');
    const canvas = Object.assign(document.createElement('canvas'), { width: 220, height: 220, id: `boundary-${run.id}` });
    figure.append(canvas, Object.assign(document.createElement('figcaption'), { textContent: OPTIMIZER_STYLE[run.id].label }));
    boundaries.append(figure);
  }
}

function refreshSpectra(): void {
  if (trainer === undefined || charts === undefined) return;
  const current = view();
  const { momentum, orthogonalized } = trainer.muonSpectra(current);
  const last = spectraHistory.at(-1);
  const spectra = [momentum, orthogonalized, last?.updates.adamw, last?.updates.lion];
  charts.histogram.update(spectra);
  charts.quantiles.update(spectraHistory);
  charts.polynomial.update(resolveCoefficients(current.preset, current.nsSteps), momentum);
  status.charts.histogram = spectra.filter((x) => x !== undefined).length;
  status.charts.quantiles = spectraHistory.filter((h) => h.momentum !== undefined).length;
  status.charts.polynomial = momentum === undefined ? 0 : 5;
  const s = momentum;
  $('spectrum-note').textContent = s === undefined
    ? (state.optimizers.includes('muon') ? 'Spectra appear after the first steps.' : 'Add Muon to see its momentum spectra.')
    : `${current.layer}: stable rank ${s.stableRank.toFixed(1)} of ${s.singularValues.length}, top direction ${(100 * s.topEnergy).toFixed(1)} % of the energy; after NS: stable rank ${orthogonalized?.stableRank.toFixed(1) ?? '—'}.`;
}

function refreshTraining(): void {
  if (trainer === undefined || charts === undefined) return;
  charts.loss.update(trainer.runs);
  status.charts.loss = trainer.runs.reduce((n, r) => n + r.losses.length, 0);
  const rows = trainer.runs.map((run) => {
    const recent = (xs: number[]): number => {
      const tail = xs.slice(-50);
      return tail.reduce((a, b) => a + b, 0) / Math.max(1, tail.length);
    };
    const stepMs = recent(run.stepMs);
    const optimizerMs = recent(run.optimizerMs);
    status.stepMs[run.id] = stepMs;
    status.optimizerMs[run.id] = optimizerMs;
    const heldOut = run.heldOut.at(-1)?.[1];
    return `<tr><td style="color:${OPTIMIZER_STYLE[run.id].color}">${OPTIMIZER_STYLE[run.id].label}</td><td>${(run.losses.at(-1) ?? Number.NaN).toFixed(3)}</td><td>${heldOut?.toFixed(3) ?? '—'}</td><td>${stepMs > 0 ? (1000 / stepMs).toFixed(1) : '—'}</td><td>${optimizerMs.toFixed(1)}</td>${run.diverged ? '<td>diverged</td>' : ''}</tr>`;
  });
  $('speed').innerHTML = `<tr><th>optimizer</th><th>train loss</th><th>held-out</th><th>steps/s</th><th>optimizer ms</th></tr>${rows.join('')}`;
  $('step').textContent = `step ${trainer.step} / ${state.steps}`;
  if (task?.toy !== undefined) {
    for (const run of trainer.runs) drawDecisionBoundary($<HTMLCanvasElement>(`boundary-${run.id}`), run.model, task.toy);
    status.charts.boundaries = trainer.runs.length;
  }
}

// ---- the loop -------------------------------------------------------------------------------

/**
 * Yields to the browser (input, layout, painting) and resumes as soon as it is idle again. Not
 * requestAnimationFrame: measured in headless Chromium on a busy 2-core machine, waiting for the
 * next frame cost 0.2–0.9 s per frame, several times the training itself.
 */
const yieldToBrowser = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

async function loop(): Promise<void> {
  let lastDraw = 0;
  while (running && trainer !== undefined && trainer.step < state.steps) {
    const frameStart = performance.now();
    do {
      const due = (trainer.step + 1) % state.spectrumEvery === 0;
      const spectra = await trainer.trainStep(state, due ? view() : undefined);
      if (spectra !== undefined) spectraHistory.push(spectra);
      status.step = trainer.step;
      if (trainer.runs.every((r) => r.diverged)) running = false;
    } while (running && trainer.step < state.steps && performance.now() - frameStart < FRAME_BUDGET_MS);
    if (performance.now() - lastDraw > 250 || trainer.step >= state.steps) {
      refreshTraining();
      refreshSpectra();
      lastDraw = performance.now();
    }
    await yieldToBrowser();
  }
  running = false;
  // Done at the last step, or earlier when every run diverged (nothing left to train).
  if (trainer !== undefined && (trainer.step >= state.steps || trainer.runs.every((r) => r.diverged))) {
    if (trainer.runs[0]?.heldOut.at(-1)?.[0] !== trainer.step) trainer.evaluate();
    refreshTraining();
    status.done = true;
  }
  $('run').textContent = 'Train';
}

function start(): void {
  if (running || trainer === undefined) return;
  if (trainer.step >= state.steps) return;
  running = true;
  status.done = false;
  $('run').textContent = 'Pause';
  loop().catch(fail);
}

async function loadData(taskId: PlaygroundState['task']): Promise<TaskData> {
  const base = location.href;
  if ((taskId === 'mlp' || taskId === 'convnet') && data.mnist === undefined) {
    $('step').textContent = 'loading MNIST…';
    data.mnist = await fetchMnist(base);
  }
  if (taskId === 'transformer' && data.corpus === undefined) {
    $('step').textContent = 'loading Moby Dick…';
    data.corpus = await fetchMobyDick(base);
  }
  return data;
}

async function restart(): Promise<void> {
  running = false;
  trainer?.dispose();
  trainer = undefined;
  spectraHistory = [];
  status.step = 0;
  status.done = false;
  const taskData = await loadData(state.task);
  task = createPlaygroundTask({ ...state, nsSteps: view().nsSteps }, taskData);
  trainer = new SideBySideTrainer(task.task, { ...state, nsSteps: view().nsSteps }, backendTraits);
  status.losses = Object.fromEntries(trainer.runs.map((r) => [r.id, r.losses]));
  status.heldOut = Object.fromEntries(trainer.runs.map((r) => [r.id, r.heldOut]));
  status.timings = Object.fromEntries(trainer.runs.map((r) => [r.id, { stepMs: r.stepMs, optimizerMs: r.optimizerMs }]));
  trainer.evaluate();
  $('task-summary').textContent = `${task.task.title}: ${task.task.modelSummary}, batch ${task.task.batchSize}`;
  renderControls();
  buildCharts();
  refreshTraining();
  refreshSpectra();
}

async function main(): Promise<void> {
  history.replaceState(null, '', serializeState(state));
  $('run').addEventListener('click', () => (running ? (running = false) : start()));
  $('reset').addEventListener('click', () => void restart().catch(fail));
  $('share').addEventListener('click', () => void navigator.clipboard?.writeText(location.href));
  const backend = await startBackend(state.backend, state.threads);
  status.backend = backend.name;
  status.floatPrecision = backendFloatPrecision();
  backendTraits = { gpu: backend.name !== 'wasm', floatPrecision: status.floatPrecision };
  const floats = status.floatPrecision === 16 ? '16-bit floats, ε ≥ 1e-4' : '';
  $('backend').textContent = `backend: ${backend.name}${[backend.detail, floats].some((d) => d) ? ` (${[backend.detail, floats].filter((d) => d).join('; ')})` : ''}`;
  await restart();
  if (state.autostart) start();
}

main().catch(fail);
