import type * as tfl from '@tensorflow/tfjs-layers';
import { type HybridOptimizer, qkClipHook } from 'muon-tfjs';
import { CausalSelfAttention } from 'muon-tfjs/layers';
import { optimizerSpec, type OptimizerSpec } from '../benchmark/protocol/optimizers.js';
import { lossChartSpec } from '../benchmark/report/lossChart.js';
import { renderVegaLite } from '../benchmark/report/renderVegaLite.js';
import type { Task } from 'muon-tfjs-tasks';
import { trainRun } from '../benchmark/runs/trainRun.js';

/**
 * The demonstration's setting: Muon's lr 0.2 (the top of the benchmark's Muon grid, 4× what the
 * grid picks for the transformer) makes the attention logits grow past τ = 100 within about 40
 * steps (measured: 93 at step 25, 285 at step 50, 1470 at step 150 without QK-clip); the AdamW
 * group keeps an ordinary 3e-3. 150 steps of the default transformer: a few minutes on 2 cores.
 */
export const QK_CLIP_DEMO_DEFAULTS = { threshold: 100, steps: 150, learningRate: 0.2, auxLearningRate: 3e-3 } as const;

/** Options of {@link runQkClipDemo}. */
export interface QkClipDemoOptions {
  /** The transformer task (its model must contain {@link CausalSelfAttention} layers). */
  task: Task;
  /** τ of QK-clip. */
  threshold: number;
  steps: number;
  /** Muon's learning rate (the hidden matrices, attention included). */
  learningRate: number;
  /** The AdamW group's learning rate (embeddings, head, gains). */
  auxLearningRate: number;
  seed: number;
  onStep?: (run: string, step: number, loss: number) => void;
}

/** One training run of the demonstration. */
export interface QkClipRun {
  label: string;
  qkClip: boolean;
  /** Training loss of every step. */
  losses: number[];
  /** Per step: the largest S_h over every attention layer and head, measured in that step's forward pass (before its update and clip). */
  maxLogits: number[];
  /** Steps on which at least one head was clipped. */
  clippedSteps: number;
  testLoss: number;
  diverged: boolean;
}

/** Both runs, same seed, same data order, same initial weights: only QK-clip differs. */
export interface QkClipDemoResult {
  threshold: number;
  learningRate: number;
  auxLearningRate: number;
  steps: number;
  seed: number;
  runs: [QkClipRun, QkClipRun];
}

/** The model's attention layers, which record their maximum logits. */
function attentionLayers(model: tfl.LayersModel): CausalSelfAttention[] {
  const layers = model.layers.filter((l): l is CausalSelfAttention => l instanceof CausalSelfAttention);
  if (layers.length === 0) throw new Error('the QK-clip demonstration needs a model with CausalSelfAttention layers');
  return layers;
}

/**
 * The benchmark's Muon hybrid with an after-step hook that reads every attention layer's maximum
 * logit of the step's forward pass (both runs: the same read-back) and, in the QK-clip run, a
 * `qkClipHook` after it. The clip re-measures S_h on the step's batch with the updated weights
 * (`qkClipTarget({ remeasure: true })`), so that the logits it leaves on that batch are ≤ τ; the
 * forward-pass maximum plotted is that of the next batch, before its update.
 */
function monitoredMuon(clip: boolean, threshold: number, record: (maxLogit: number) => void, clipped: () => void): OptimizerSpec {
  const muon = optimizerSpec('muon');
  return {
    ...muon,
    label: clip ? `Muon, QK-clip τ=${threshold}` : 'Muon, no QK-clip',
    create(learningRate, context) {
      const optimizer = muon.create(learningRate, context) as HybridOptimizer;
      const layers = attentionLayers(context.model);
      layers.forEach((l) => (l.recordMaxLogits = true));
      const targets = clip ? layers.map((l) => l.qkClipTarget({ remeasure: true })) : [];
      optimizer.addAfterStepHook('maxLogitMonitor', () => {
        const perLayer = layers.map((l) => {
          const recorded = l.takeMaxLogits();
          const values = recorded === undefined ? [] : Array.from(recorded.dataSync());
          recorded?.dispose();
          return values;
        });
        record(Math.max(...perLayer.flat()));
      });
      if (clip) {
        optimizer.addAfterStepHook('qkClip', qkClipHook({
          targets,
          threshold,
          onReport: ({ targets: reports }) => {
            if (reports.some((t) => t.eta.some((e) => e < 1))) clipped();
          },
        }));
      }
      return optimizer;
    },
  };
}

/**
 * QK-clip shown on the benchmark transformer: two runs of the Muon hybrid from the same seed,
 * one without QK-clip and one with it, recording the largest attention logit of every step.
 */
export function runQkClipDemo(options: QkClipDemoOptions): QkClipDemoResult {
  const { task, threshold, steps, learningRate, auxLearningRate, seed } = options;
  const run = (clip: boolean): QkClipRun => {
    const maxLogits: number[] = [];
    let clippedSteps = 0;
    const spec = monitoredMuon(clip, threshold, (s) => maxLogits.push(s), () => (clippedSteps += 1));
    const record = trainRun({
      task, optimizer: spec, learningRate, auxLearningRate, seed, steps, evaluateOn: 'test',
      onStep: (step, loss) => options.onStep?.(spec.label, step, loss),
    });
    return { label: spec.label, qkClip: clip, losses: record.losses, maxLogits, clippedSteps, testLoss: record.evaluation.loss, diverged: record.diverged };
  };
  return { threshold, learningRate, auxLearningRate, steps, seed, runs: [run(false), run(true)] };
}

/** The two plots, as SVG: maximum logit against step (with τ), and training loss against step (log scales). */
export async function qkClipPlots(result: QkClipDemoResult): Promise<{ maxLogit: string; loss: string }> {
  const colors = ['#d62728', '#1f77b4'];
  const steps = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);
  const series = (y: (r: QkClipRun) => number[]) => result.runs.map((r, k) => ({ label: r.label, color: colors[k] as string, x: steps(y(r).length), y: y(r) }));
  const tau = { label: `τ = ${result.threshold}`, color: '#7f7f7f', x: [1, result.steps], y: [result.threshold, result.threshold] };
  const settings = `Muon lr ${result.learningRate}, AdamW lr ${result.auxLearningRate}, seed ${result.seed}`;
  return {
    maxLogit: await renderVegaLite(lossChartSpec({ title: 'Largest attention logit per step (all layers and heads)', xLabel: `step (${settings})`, yLabel: 'max q·k/√d', series: [...series((r) => r.maxLogits), tau] })),
    loss: await renderVegaLite(lossChartSpec({ title: 'Training loss per step', xLabel: `step (${settings})`, yLabel: 'training loss', series: series((r) => r.losses) })),
  };
}

/** A text summary of both runs: the largest logit, clipped steps, final and test losses. */
export function formatQkClipSummary(result: QkClipDemoResult): string {
  const tail = (xs: number[]): number => {
    const last = xs.slice(-Math.max(1, Math.round(xs.length / 10)));
    return last.reduce((a, b) => a + b, 0) / last.length;
  };
  const rows = result.runs.map((r) =>
    `| ${r.label} | ${Math.max(...r.maxLogits).toFixed(1)} | ${(r.maxLogits.at(-1) ?? Number.NaN).toFixed(1)} | ${r.clippedSteps} | ${tail(r.losses).toFixed(4)} | ${r.testLoss.toFixed(4)} |${r.diverged ? ' diverged' : ''}`);
  return [
    `QK-clip on the benchmark transformer: τ = ${result.threshold}, ${result.steps} steps, Muon lr ${result.learningRate}, AdamW lr ${result.auxLearningRate}, seed ${result.seed}`,
    '',
    '| Run | Largest logit | Last step\'s | Clipped steps | Train loss (last 10%) | Test loss |',
    '|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

