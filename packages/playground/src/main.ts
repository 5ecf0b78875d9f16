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
import { backendFloatPrecision, resolveCoefficients, type CoefficientPreset } from 'muon-tfjs';
import * as tf from '@tensorflow/tfjs-core';
import { classOneProbabilities, drawDecisionBoundary } from './charts/decisionBoundary.js';
import { lossChart } from './charts/lossChart.js';
import { polynomialChart } from './charts/polynomialChart.js';
import { quantileChart } from './charts/quantileChart.js';
import { spectrumHistogram } from './charts/spectrumHistogram.js';
import { type BackendTraits, FLOAT32_CPU, OPTIMIZER_STYLE } from './createOptimizer.js';
import { createPlaygroundTask, type PlaygroundTask, type TaskData } from './playgroundTask.js';
import { BACKEND_CHOICES, OPTIMIZER_IDS, SCHEDULES, SPECTRUM_VIEW_PRESETS, TASK_DEFAULT_SETTINGS, TASK_IDS, TOY_DATASETS, parseStateReport, serializeState, type OptimizerId, type PlaygroundState } from './playgroundState.js';
import { SideBySideTrainer, type LayerSpectra, type SpectraView } from './sideBySideTrainer.js';
import { fetchMnist, fetchMobyDick } from './siteData.js';
import { startBackend, type StartedBackend } from './startBackend.js';
import type { PlaygroundStatus } from './playgroundStatus.js';

declare global {
  interface Window {
    playgroundStatus: PlaygroundStatus;
  }
}

/** Time the loop may spend stepping before it yields to the browser (about two frames at 60 Hz). */
const FRAME_BUDGET_MS = 30;
const TASK_TITLES: Record<(typeof TASK_IDS)[number], string> = { toy: '2-D toy (decision boundary)', mlp: 'MNIST, MLP', convnet: 'MNIST, ConvNet', transformer: 'Moby Dick, char transformer' };
/** The hybrids' matrix groups, named by their lr control: the rate set there is that group's only. */
const MATRIX_GROUPS: Partial<Record<OptimizerId, string>> = { muon: 'Muon', dion2: 'Dion2' };

const status: PlaygroundStatus = {
  backend: '', backendReason: '', floatPrecision: 32, step: 0, done: false, losses: {}, heldOut: {}, divergence: {}, stepMs: {}, optimizerMs: {}, timings: {},
  charts: { loss: 0, histogram: 0, quantiles: 0, polynomial: 0, boundaries: 0 }, ignoredUrlValues: [], error: null,
};
window.playgroundStatus = status;

const parsed = parseStateReport(location.search);
let state = parsed.state;
/** The user wants training to go on (Train pressed, or autostart); Pause clears it. */
let running = false;
/** A training loop is between its start and its end (it may still be finishing a step after Pause). */
let looping = false;
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
  renderRunButton();
  console.error(error);
}

/** Notes on what the page did not do as asked: ignored URL values, a backend that did not start. */
const notes: string[] = [];

/** Shows `notes` and every diverged run's advice under the header. */
function renderNotices(): void {
  const lines = [...notes, ...Object.values(status.divergence)];
  $('notices').replaceChildren(...lines.map((line) => Object.assign(document.createElement('li'), { textContent: line })));
  $('notices').hidden = lines.length === 0;
}

/** Whether the run is over: the last step reached, or every optimizer diverged. */
function finished(): boolean {
  return trainer !== undefined && (trainer.step >= state.steps || !trainer.training);
}

/**
 * Makes the Train/Pause button say what pressing it does now: Pause while training, Train while
 * paused, and disabled when there is nothing to train (no model yet, or the run is over: more
 * Steps enable it again).
 */
function renderRunButton(): void {
  const button = $<HTMLButtonElement>('run');
  button.textContent = running ? 'Pause' : finished() ? 'Done' : 'Train';
  button.disabled = !running && (trainer === undefined || finished());
  button.title = finished() && !running ? 'Every step is trained; raise Steps to train on, or Reset.' : '';
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
  problem.append(field('Steps', numberInput('steps', state.steps, '1', (v) => {
    setState({ ...state, steps: Math.round(v) });
    renderRunButton();
  }), 'Training stops here; the schedules decay over this many steps.'));
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
    const group = MATRIX_GROUPS[id];
    row.append(field('lr', numberInput(`${id}-lr`, settings.lr, 'any', (v) => setState({ ...state, settings: { ...state.settings, [id]: { ...settings, lr: v } } })),
      group === undefined ? '' : `Learning rate of the ${group} group; the AdamW group of the hybrid uses AdamW’s rate and schedule.`));
    row.append(field('schedule', select(`${id}-schedule`, SCHEDULES, settings.schedule, (v) =>
      setState({ ...state, settings: { ...state.settings, [id]: { ...state.settings[id], schedule: v as PlaygroundState['settings'][OptimizerId]['schedule'] } } }))));
    optimizers.append(row);
  }

  const spectra = section('Spectra');
  const layers = trainer?.matrixWeights() ?? [];
  spectra.append(field('Layer', select('layer', layers, view().layer, (v) => {
    setState({ ...state, layer: v });
    spectraHistory = [];
    void refreshSpectra().catch(fail);
  })));
  spectra.append(field('NS preset', select('preset', SPECTRUM_VIEW_PRESETS, state.preset, (v) => {
    const preset = v as CoefficientPreset;
    setState({ ...state, preset, nsSteps: Math.max(state.nsSteps, minimumNsSteps(preset)) });
    renderControls();
    void refreshSpectra().catch(fail);
  }), 'Used by the spectra view at once, and by Muon itself from the next Reset.'));
  spectra.append(field('NS steps', numberInput('ns-steps', view().nsSteps, '1', (v) => {
    setState({ ...state, nsSteps: Math.max(Math.round(v), minimumNsSteps(state.preset)) });
    void refreshSpectra().catch(fail);
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
    { label: 'Dion2: update', color: OPTIMIZER_STYLE.dion2.color },
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

/** Redraws the spectra charts: Muon's momentum now (read asynchronously), the history the loop collected. */
async function refreshSpectra(): Promise<void> {
  const shown = trainer;
  if (shown === undefined || charts === undefined) return;
  const current = view();
  const { momentum, orthogonalized } = await shown.muonSpectra(current);
  if (shown !== trainer || charts === undefined) return; // a Reset replaced the trainer meanwhile
  const last = spectraHistory.at(-1);
  const spectra = [momentum, orthogonalized, last?.updates.adamw, last?.updates.lion, last?.updates.dion2];
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

/** Redraws the loss chart, the table, the divergence notices and, on the toy task, the decision boundaries. */
async function refreshTraining(): Promise<void> {
  const shown = trainer;
  if (shown === undefined || charts === undefined) return;
  charts.loss.update(shown.runs);
  status.charts.loss = shown.runs.reduce((n, r) => n + r.losses.length, 0);
  const rows = shown.runs.map((run) => {
    const recent = (xs: number[]): number => {
      const tail = xs.slice(-50);
      return tail.reduce((a, b) => a + b, 0) / Math.max(1, tail.length);
    };
    const stepMs = recent(run.stepMs);
    const optimizerMs = recent(run.optimizerMs);
    status.stepMs[run.id] = stepMs;
    status.optimizerMs[run.id] = optimizerMs;
    if (run.divergence !== undefined) status.divergence[run.id] = run.divergence;
    const heldOut = run.heldOut.at(-1)?.[1];
    return `<tr><td style="color:${OPTIMIZER_STYLE[run.id].color}">${OPTIMIZER_STYLE[run.id].label}</td><td>${run.divergence !== undefined ? 'diverged' : (run.losses.at(-1) ?? Number.NaN).toFixed(3)}</td><td>${heldOut?.toFixed(3) ?? '—'}</td><td>${stepMs > 0 ? (1000 / stepMs).toFixed(1) : '—'}</td><td>${optimizerMs.toFixed(1)}</td></tr>`;
  });
  $('speed').innerHTML = `<tr><th>optimizer</th><th>train loss</th><th>held-out</th><th>steps/s</th><th>optimizer ms</th></tr>${rows.join('')}`;
  $('step').textContent = `step ${shown.step} / ${state.steps}`;
  renderNotices();
  if (task?.toy !== undefined) {
    const toy = task.toy;
    // Every model's field in one asynchronous read.
    const fields = tf.tidy(() => tf.stack(shown.runs.map((run) => classOneProbabilities(run.model))));
    const values = await fields.data().finally(() => fields.dispose());
    if (shown !== trainer) return;
    const cells = values.length / shown.runs.length;
    shown.runs.forEach((run, i) => drawDecisionBoundary($<HTMLCanvasElement>(`boundary-${run.id}`), values.subarray(i * cells, (i + 1) * cells), toy));
    status.charts.boundaries = shown.runs.length;
  }
}

// ---- the loop -------------------------------------------------------------------------------

/**
 * Yields to the browser (input, layout, painting) and resumes as soon as it is idle again. Not
 * requestAnimationFrame: measured in headless Chromium on a busy 2-core machine, waiting for the
 * next frame cost 0.2–0.9 s per frame, several times the training itself.
 */
const yieldToBrowser = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * Trains the current trainer until Pause, the last step, every run diverging, or a Reset (which
 * replaces the trainer and so ends this loop). Steps are queued for a frame's budget, then the
 * loop waits for the device's one batched read-back: that keeps the queued work to about a frame
 * (Pause acts within one) and learns the losses, held-out losses and divergence.
 */
async function loop(): Promise<void> {
  const training = trainer;
  if (training === undefined) return;
  looping = true;
  let lastDraw = 0;
  try {
    while (running && trainer === training && !finished()) {
      const frameStart = performance.now();
      do {
        const due = (training.step + 1) % state.spectrumEvery === 0;
        training.trainStep(state, due ? view() : undefined);
        status.step = training.step;
      } while (running && training.training && training.step < state.steps && performance.now() - frameStart < FRAME_BUDGET_MS);
      const spectra = await training.readBack();
      if (trainer !== training) return;
      spectraHistory.push(...spectra);
      if (performance.now() - lastDraw > 250 || finished()) {
        await refreshTraining();
        await refreshSpectra();
        lastDraw = performance.now();
      }
      await yieldToBrowser();
    }
    if (trainer === training && finished()) {
      // The held-out loss at the last step, unless the periodic evaluation just took it.
      if (training.runs.find((r) => r.divergence === undefined)?.heldOut.at(-1)?.[0] !== training.step) training.evaluate();
      await training.readBack();
      await refreshTraining();
      running = false;
      status.done = true;
    }
  } catch (error) {
    running = false;
    throw error;
  } finally {
    looping = false;
    if (trainer === training) {
      // Train pressed again while this loop was finishing its last frame after a Pause.
      if (running && !finished()) void loop().catch(fail);
      renderRunButton();
    }
  }
}

function start(): void {
  if (running || trainer === undefined || finished()) return;
  running = true;
  status.done = false;
  renderRunButton();
  if (!looping) void loop().catch(fail);
}

function pause(): void {
  running = false;
  renderRunButton();
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
  renderRunButton();
  spectraHistory = [];
  status.step = 0;
  status.done = false;
  status.divergence = {};
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
  await trainer.readBack();
  await refreshTraining();
  await refreshSpectra();
  renderRunButton();
}

/** Says which backend runs and why, and sets what the optimizers need to know of it. */
function showBackend(backend: StartedBackend): void {
  status.backend = backend.name;
  status.backendReason = backend.reason;
  status.floatPrecision = backendFloatPrecision();
  backendTraits = { floatPrecision: status.floatPrecision };
  const floats = status.floatPrecision === 16 ? '16-bit floats, ε ≥ 1e-4' : '';
  const details = [backend.detail, floats].filter((d) => d !== '');
  $('backend').textContent = `backend: ${backend.name}${details.length > 0 ? ` (${details.join('; ')})` : ''}`;
  const note = $('backend-note');
  note.textContent = `Runs on ${backend.name}: ${backend.reason}.`;
  // A named backend that did not start is a request the page did not follow: shown as a warning.
  note.classList.toggle('warning', state.backend !== 'auto' && backend.name !== state.backend);
}

async function main(): Promise<void> {
  history.replaceState(null, '', serializeState(state));
  $('run').addEventListener('click', () => (running ? pause() : start()));
  $('reset').addEventListener('click', () => void restart().catch(fail));
  $('share').addEventListener('click', () => void navigator.clipboard?.writeText(location.href));
  status.ignoredUrlValues = [...parsed.ignored];
  if (parsed.ignored.length > 0) notes.push(`Ignored in the link: ${parsed.ignored.join('; ')}.`);
  renderNotices();
  renderRunButton();
  try {
    showBackend(await startBackend(state.backend, state.threads));
  } catch (error) {
    // Nothing can train, but the controls stay: another backend or a reload may work.
    renderControls();
    throw error;
  }
  await restart();
  const layers = trainer?.matrixWeights() ?? [];
  if (state.layer !== '' && !layers.includes(state.layer)) {
    const ignored = `layer=${state.layer} (not a matrix Muon orthogonalizes in this model: ${layers.join(', ')})`;
    status.ignoredUrlValues.push(ignored);
    notes.push(`Ignored in the link: ${ignored}.`);
    setState({ ...state, layer: '' });
    renderControls();
    renderNotices();
  }
  if (state.autostart) start();
}

main().catch(fail);
