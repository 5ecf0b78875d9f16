import type { BenchResults, ModelResult, OptimizerResult } from '../results/results.js';
import { ADAMW_HALF_FACTOR, adamwHalfPeak } from '../protocol/optimizers.js';
import { smoothingWindow, type Stat } from '../protocol/stats.js';

/** Formats mean ± std (just the mean for one seed) with the given number of decimals. */
export function formatStat(s: Stat, decimals: number, scale = 1): string {
  if (s.n === 0 || !Number.isFinite(s.mean)) return '—';
  const mean = (s.mean * scale).toFixed(decimals);
  return s.n > 1 ? `${mean} ± ${(s.std * scale).toFixed(decimals)}` : mean;
}

/** Column headers of the per-model table. */
export const TABLE_HEADERS = [
  'Optimizer', 'Tuned', 'Final train loss', 'Test acc. %', 'Test loss', 'Steps to target', 'Time to target s', 'Wall s', 'Opt. step share',
] as const;

/** How the tables name a tuned hyper-parameter. */
const SHORT_NAMES: Record<string, string> = { learningRate: 'lr', rho: 'ρ', [ADAMW_HALF_FACTOR.name]: 'AdamW half' };

/**
 * The chosen values: the peak learning rate, the hybrid's AdamW half's rate (with its tuned factor
 * of AdamW's choice), other tuned values; a choice left at a grid edge by the extension cap is flagged.
 */
export function tunedCell(o: OptimizerResult): string {
  const factor = o.tuned[ADAMW_HALF_FACTOR.name];
  const extras = [
    ...(o.auxLearningRate === null ? [] : [`AdamW ${Number(adamwHalfPeak(o.auxLearningRate, o.tuned).toPrecision(3))}${factor === undefined ? '' : ` = ${factor}× AdamW's`}`]),
    ...Object.entries(o.tuned).filter(([name]) => name !== ADAMW_HALF_FACTOR.name).map(([name, value]) => `${SHORT_NAMES[name] ?? name} ${value}`),
  ];
  const capped = o.searches.filter((s) => s.capped).map((s) => SHORT_NAMES[s.parameter] ?? s.parameter);
  const given = o.searches.some((s) => s.parameter === 'learningRate') ? '' : ' [lr given]';
  return `${o.learningRate}${given}${extras.length > 0 ? ` (${extras.join(', ')})` : ''}${capped.length > 0 ? ` [${capped.join(', ')} at grid edge, cap hit]` : ''}`;
}

/** The rows of one model's table, as strings. */
export function tableRows(model: ModelResult): string[][] {
  return model.optimizers.map((o) => {
    const s = o.summary;
    const runs = o.runs.length;
    const seedsReached = s.reachedTarget < runs ? ` (${s.reachedTarget}/${runs} seeds)` : '';
    const reached = (stat: Stat, decimals: number): string => (s.reachedTarget === 0 ? 'not reached' : `${formatStat(stat, decimals)}${seedsReached}`);
    return [
      o.label + (o.runs.some((r) => r.diverged) ? ' (diverged)' : ''),
      tunedCell(o),
      formatStat(s.finalTrainLoss, 4),
      formatStat(s.testAccuracy, 2, 100),
      formatStat(s.testLoss, 4),
      reached(s.stepsToTarget, 0),
      reached(s.secondsToTarget, 1),
      formatStat(s.wallSeconds, 1),
      formatStat(s.optimizerShare, 0, 100) + (s.optimizerShare.n > 0 ? ' %' : ''),
    ];
  });
}

/** One model's table as aligned plain text (for the terminal). */
export function formatTextTable(model: ModelResult): string {
  const rows = [[...TABLE_HEADERS], ...tableRows(model)];
  const widths = TABLE_HEADERS.map((_, c) => Math.max(...rows.map((r) => [...(r[c] ?? '')].length)));
  const line = (r: string[]): string => r.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join('  ').trimEnd();
  const rule = widths.map((w) => '─'.repeat(w)).join('  ');
  return [line(rows[0] as string[]), rule, ...rows.slice(1).map(line)].join('\n');
}

/** One model's table as GitHub Markdown. */
export function formatMarkdownTable(model: ModelResult): string {
  const rows = tableRows(model);
  return [
    `| ${TABLE_HEADERS.join(' | ')} |`,
    `|${TABLE_HEADERS.map((_, i) => (i < 2 ? ' --- ' : ' ---: ')).join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

/**
 * A paragraph under each table: the model, budget, schedule, tuning, what the columns mean, and
 * Muon's step and time ratios to AdamW.
 */
export function modelFootnote(model: ModelResult, seeds: number): string {
  const steps = model.muonToAdamwStepRatio;
  const time = model.muonToAdamwTimeRatio;
  // The ratios are over the seeds that reached the target: say how many, where not all did.
  const muon = model.optimizers.find((o) => o.kind === 'muon');
  const reached = muon !== undefined && muon.summary.reachedTarget < seeds ? ` (in ${muon.summary.reachedTarget} of ${seeds} seeds)` : '';
  const ratioText = steps === null || time === null
    ? ''
    : ` Muon reached it${reached} in ${steps.toFixed(2)}× AdamW's steps and ${time.toFixed(2)}× its time${time > 1 && steps < 1 ? ' (fewer steps, but more time)' : ''}.`;
  return `${model.title}: ${model.modelSummary}, ${model.parameters.toLocaleString('en-US')} parameters; ` +
    `${model.epochs} epoch(s) × ${model.stepsPerEpoch} steps of batch ${model.batchSize}; ${seedsCaption(model)}. ` +
    `Every optimizer: ${model.scheduleDescription}. Tuned on the held-out split with ${model.tuneSteps}-step runs (schedule compressed to them). ` +
    `Final train loss: the mean per-step training loss over the last ${smoothingWindow(model.steps)} steps (the log's value). ` +
    `Target loss ${model.targetLoss.toFixed(4)} = ${model.targetRule}; time to target = seconds of training steps until the smoothed loss reaches it; ` +
    `opt. step share = fraction of the training step's time in the optimizer step.${ratioText}`;
}

/**
 * What the numbers of a model are over: "3 seeds, mean ± std", or for one seed "seed 1" (a single
 * run has no spread to print).
 */
export function seedsCaption(model: ModelResult): string {
  const seeds = [...new Set(model.optimizers.flatMap((o) => o.runs.map((r) => r.seed)))];
  return seeds.length === 1 ? `seed ${seeds[0]}` : `${seeds.length} seeds, mean ± std`;
}

/** All tables for the terminal. */
export function formatTextReport(results: BenchResults): string {
  return results.models.map((m) =>
    `\n${m.title}\n${formatTextTable(m)}\n${modelFootnote(m, results.config.seeds.length)}`).join('\n');
}
