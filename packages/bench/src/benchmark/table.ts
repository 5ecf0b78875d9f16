import type { BenchResults, ModelResult } from './results.js';
import type { Stat } from './stats.js';

/** Formats mean ± std (just the mean for one seed) with the given number of decimals. */
export function formatStat(s: Stat, decimals: number, scale = 1): string {
  if (s.n === 0 || !Number.isFinite(s.mean)) return '—';
  const mean = (s.mean * scale).toFixed(decimals);
  return s.n > 1 ? `${mean} ± ${(s.std * scale).toFixed(decimals)}` : mean;
}

/** Column headers of the per-model table. */
export const TABLE_HEADERS = [
  'Optimizer', 'lr', 'Final train loss', 'Test acc. %', 'Test loss', 'Steps to target', 'Wall s', '× SGD time', 'Opt. step share',
] as const;

/** The rows of one model's table, as strings. */
export function tableRows(model: ModelResult): string[][] {
  return model.optimizers.map((o) => {
    const s = o.summary;
    const lr = o.auxLearningRate === null ? `${o.learningRate}` : `${o.learningRate} (AdamW ${o.auxLearningRate})`;
    const runs = o.runs.length;
    const steps = s.reachedTarget === 0
      ? `not reached`
      : `${formatStat(s.stepsToTarget, 0)}${s.reachedTarget < runs ? ` (${s.reachedTarget}/${runs} seeds)` : ''}`;
    return [
      o.label + (o.runs.some((r) => r.diverged) ? ' (diverged)' : ''),
      lr,
      formatStat(s.finalTrainLoss, 4),
      formatStat(s.testAccuracy, 2, 100),
      formatStat(s.testLoss, 4),
      steps,
      formatStat(s.wallSeconds, 1),
      s.relativeTime === null ? '—' : `${s.relativeTime.toFixed(2)}×`,
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

/** A sentence under each table: the target, seeds and the Muon/AdamW step ratio. */
export function modelFootnote(model: ModelResult, seeds: number): string {
  const ratio = model.muonToAdamwStepRatio;
  const ratioText = ratio === null
    ? ''
    : ` Muon reached it in ${ratio.toFixed(2)}× AdamW's steps${ratio < 1 ? ` (${(1 / ratio).toFixed(2)}× fewer)` : ratio > 1 ? ' (more steps than AdamW)' : ''}.`;
  return `${model.title}: ${model.modelSummary}, ${model.parameters.toLocaleString('en-US')} parameters; ` +
    `${model.epochs} epoch(s) × ${model.stepsPerEpoch} steps of batch ${model.batchSize}; ${seeds} seed(s), mean ± std. ` +
    `Target loss ${model.targetLoss.toFixed(4)} = ${model.targetRule}.${ratioText}`;
}

/** All tables for the terminal. */
export function formatTextReport(results: BenchResults): string {
  return results.models.map((m) =>
    `\n${m.title}\n${formatTextTable(m)}\n${modelFootnote(m, results.config.seeds.length)}`).join('\n');
}
