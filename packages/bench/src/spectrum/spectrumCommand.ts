import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { setupBackend, BENCH_BACKENDS, type BenchBackend } from '../benchmark/runs/backend.js';
import { spectrumExponents } from './spectrumExponents.js';
import { spectrumReportHtml, exponentTable } from './spectrumReport.js';
import { renderVegaLite } from '../benchmark/report/renderVegaLite.js';
import { histogramPlots, polynomialPlot, powerLawPlots, quantilePlots } from './spectrumPlots.js';
import { spectrumRun, type SpectrumRunConfig, type SpectrumRunResult } from './spectrumRun.js';

/** The `muon-tfjs spectrum --help` text. */
export const SPECTRUM_USAGE = `Usage: npm run spectrum -- [options]

Trains the benchmark's character transformer (Moby Dick) at several widths and depths with
Muon + AdamW, tracks the singular-value quantiles of Muon's momentum M/‖M‖_F for every attention
(Q, K, V, O) and MLP (up, down) matrix with spectrumTracker, averages them after a burn-in, and
fits σ_q ∝ M^(−α) (M = trainable parameters) per layer type for the first, middle and final
block, next to the exponents of "Spectral Scaling Laws of Muon" (arXiv 2606.04058). Prints the
exponent table; writes results.json, SVG plots and report.html.

Options:
  --quick            a smoke run: widths 32,64, depths 1,2, 30 steps (burn-in 15, every 5)
  --widths LIST      comma-separated model widths (default 32,64,128,256)
  --depths LIST      comma-separated numbers of blocks (default 2,4)
  --steps N          training steps per model (default 200; the paper trains far longer and
                     averages steps 1300–1500)
  --burn-in N        steps left out of the stabilized values (default 120: most quantiles of
                     these small models level off within about 100 steps; the final block's
                     still drift up slowly, see the report's plots)
  --every N          track every N steps (default 10)
  --batch N          sequences per batch (default 16)
  --context N        characters per sequence (default 64)
  --seed N           seed of weights and batches (default 1)
  --backend NAME     wasm (default) or cpu
  --out DIR          output folder (default spectrum-results)
  -h, --help         this text

Heads are width/32; the MLP is 4× wide. Muon lr 0.01, AdamW lr 0.002 with betas (0.9, 0.95),
weight decay 0.01, constant (the paper's settings); Nesterov on, as in muon-tfjs's default (the
tracker records the momentum M, the paper's quantity, and the Nesterov input apart).
The default run took 20 minutes on a shared 2-core machine (load 3–8; width 256 is two thirds of
it); --quick takes under a minute. Width 512 costs about 3× width 256 per step (and 6× per tracked step).
`;

/** The flags of `muon-tfjs spectrum` (each documented in {@link SPECTRUM_USAGE}; others are refused). */
export const SPECTRUM_OPTIONS = {
  quick: { type: 'boolean' },
  widths: { type: 'string' },
  depths: { type: 'string' },
  steps: { type: 'string' },
  'burn-in': { type: 'string' },
  every: { type: 'string' },
  batch: { type: 'string' },
  context: { type: 'string' },
  seed: { type: 'string' },
  backend: { type: 'string', default: 'wasm' },
  out: { type: 'string', default: 'spectrum-results' },
  help: { type: 'boolean', short: 'h' },
} as const;

const QUICK = { widths: [32, 64], depths: [1, 2], steps: 30, burnIn: 15, every: 5 };
const DEFAULTS = { widths: [32, 64, 128, 256], depths: [2, 4], steps: 200, burnIn: 120, every: 10 };

function positiveIntegers(option: string, text: string): number[] {
  const values = text.split(',').map((s) => Number(s.trim()));
  const bad = values.find((v) => !Number.isInteger(v) || v < 1);
  if (bad !== undefined || values.length === 0) throw new Error(`--${option}: expected comma-separated positive integers, got '${text}'`);
  return values;
}

function positiveInteger(option: string, text: string | undefined, fallback: number, allowZero = false): number {
  if (text === undefined) return fallback;
  const v = Number(text);
  if (!Number.isInteger(v) || v < (allowZero ? 0 : 1)) throw new Error(`--${option}: expected a ${allowZero ? 'non-negative' : 'positive'} integer, got '${text}'`);
  return v;
}

/** `muon-tfjs spectrum`: runs the study and writes its outputs. */
export async function spectrumCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: SPECTRUM_OPTIONS, strict: true, allowPositionals: false });
  if (values.help === true) {
    process.stdout.write(SPECTRUM_USAGE);
    return;
  }
  const base = values.quick === true ? QUICK : DEFAULTS;
  const widths = values.widths === undefined ? base.widths : positiveIntegers('widths', values.widths);
  const depths = values.depths === undefined ? base.depths : positiveIntegers('depths', values.depths);
  const steps = positiveInteger('steps', values.steps, base.steps);
  const burnIn = positiveInteger('burn-in', values['burn-in'], Math.min(base.burnIn, steps - 1), true);
  const every = positiveInteger('every', values.every, base.every);
  if (burnIn >= steps) throw new Error(`--burn-in: ${burnIn} leaves no tracked step of the ${steps} steps to average`);
  if (every > steps - burnIn) throw new Error(`--every: ${every} tracks no step between the burn-in (${burnIn}) and the end (${steps})`);
  const batchSize = positiveInteger('batch', values.batch, 16);
  const sequenceLength = positiveInteger('context', values.context, 64);
  const seed = positiveInteger('seed', values.seed, 1, true);
  const backend = values.backend as string;
  if (!(BENCH_BACKENDS as readonly string[]).includes(backend)) {
    throw new Error(`--backend: unknown backend '${backend}'; choose from ${BENCH_BACKENDS.join(', ')}`);
  }
  const badWidth = widths.find((w) => w % Math.max(1, Math.floor(w / 32)) !== 0);
  if (badWidth !== undefined) throw new Error(`--widths: ${badWidth} is not a multiple of its head count ${Math.floor(badWidth / 32)} (heads = width/32)`);
  await setupBackend(backend as BenchBackend);
  const out = resolve(values.out as string);
  const say = (s: string): boolean => process.stderr.write(`${s}\n`);
  const command = `muon-tfjs spectrum ${argv.join(' ')}`.trim();
  say(`${command}: widths ${widths.join(', ')}; depths ${depths.join(', ')}; ${steps} steps each (burn-in ${burnIn}, tracked every ${every}).`);
  const started = performance.now();
  const runs: SpectrumRunResult[] = [];
  for (const depth of depths) {
    for (const width of widths) {
      const config: SpectrumRunConfig = { width, depth, steps, burnIn, every, seed, batchSize, sequenceLength };
      const t0 = performance.now();
      const run = spectrumRun(config, (step, loss) => {
        if (step % Math.max(1, Math.round(steps / 5)) === 0) say(`  width ${width}, depth ${depth}: step ${step}/${steps}, loss ${loss.toFixed(3)}`);
      });
      runs.push(run);
      say(`width ${width}, depth ${depth}: ${run.parameters} parameters, ${((performance.now() - t0) / 1000).toFixed(0)} s (tracker ${run.trackerSeconds.toFixed(1)} s).`);
    }
  }
  const fits = spectrumExponents(runs);
  const largest = runs.reduce((a, b) => (b.parameters > a.parameters ? b : a));
  const plots = [...quantilePlots(largest), ...histogramPlots(largest), polynomialPlot(largest), ...powerLawPlots(fits)];
  const totalSeconds = (performance.now() - started) / 1000;
  const meta = {
    command,
    createdAt: new Date().toISOString(),
    totalSeconds,
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version, backend },
  };
  mkdirSync(out, { recursive: true });
  // The σ arrays behind the histograms stay out of the JSON (the SVGs hold them): they are most of its size.
  const slimRuns = runs.map((r) => ({ ...r, layers: r.layers.map(({ lastInputSigma: _i, lastOutputSigma: _o, ...rest }) => rest) }));
  writeFileSync(join(out, 'results.json'), `${JSON.stringify({ ...meta, runs: slimRuns, fits }, null, 1)}\n`);
  const rendered = await Promise.all(plots.map(async (plot) => ({ ...plot, svg: await renderVegaLite(plot.spec) })));
  for (const plot of rendered) writeFileSync(join(out, plot.file), plot.svg);
  writeFileSync(join(out, 'report.html'), spectrumReportHtml({ ...meta, runs, fits, plots: rendered }));
  process.stdout.write(`${exponentTable(fits)}\n`);
  say(`Total ${totalSeconds.toFixed(0)} s. Wrote results.json, ${plots.length} SVG plots and report.html to ${out}.`);
}
