import type { ModelResult, OptimizerResult } from '../results/results.js';
import { twoSampleTTest, type Stat } from '../protocol/stats.js';
import { formatStat } from './table.js';

/**
 * A difference between Muon's seeds and AdamW's is called beyond seed noise when Student's
 * two-sample t-test (pooled variance) gives a two-sided p below this; with fewer than 2 seeds on
 * either side there is no spread to compare it with, and no difference is called.
 */
export const NOISE_P_VALUE = 0.05;

/** How Muon's seeds compare with AdamW's on one quantity. */
type Difference =
  | { kind: 'no-spread' }
  | { kind: 'noise'; p: number }
  | { kind: 'beyond-noise'; p: number };

/** Muon's and AdamW's values of one quantity over their seeds, against seed noise. */
function difference(muon: Stat, adamw: Stat): Difference {
  if (muon.n < 2 || adamw.n < 2) return { kind: 'no-spread' };
  const { p } = twoSampleTTest(muon, adamw);
  return p < NOISE_P_VALUE ? { kind: 'beyond-noise', p } : { kind: 'noise', p };
}

const formatP = (p: number): string => (p < 0.001 ? 'p < 0.001' : `p = ${p.toPrecision(2)}`);

/** A quantity the verdict checks Muon on besides the steps: how to read it and which way is better. */
interface Column {
  name: string;
  stat: (o: OptimizerResult) => Stat;
  decimals: number;
  scale?: number;
  unit?: string;
  higherIsBetter: boolean;
}

const COLUMNS: readonly Column[] = [
  { name: 'seconds to that loss', stat: (o) => o.summary.secondsToTarget, decimals: 1, unit: ' s', higherIsBetter: false },
  { name: 'test loss', stat: (o) => o.summary.testLoss, decimals: 4, higherIsBetter: false },
  { name: 'test accuracy', stat: (o) => o.summary.testAccuracy, decimals: 2, scale: 100, unit: ' %', higherIsBetter: true },
  { name: 'final training loss', stat: (o) => o.summary.finalTrainLoss, decimals: 4, higherIsBetter: false },
];

/** "a vs b" with each side's spread where there are seeds for one. */
function versus(muon: Stat, adamw: Stat, decimals: number, scale = 1, unit = ''): string {
  return `${formatStat(muon, decimals, scale)}${unit} vs ${formatStat(adamw, decimals, scale)}${unit}`;
}

/** The clause on steps to AdamW's final training loss: fewer or more only beyond seed noise. */
function stepsClause(model: ModelResult, muon: OptimizerResult, adamw: OptimizerResult): string {
  const seeds = muon.runs.length;
  const target = `AdamW's final training loss (${model.targetLoss.toFixed(4)})`;
  const m = muon.summary;
  const a = adamw.summary;
  if (m.reachedTarget === 0) return `Muon did not reach ${target} within the ${model.steps} steps ${seeds === 1 ? 'of its one seed' : `in any of its ${seeds} seeds`}`;
  const ratio = `${(m.stepsToTarget.mean / a.stepsToTarget.mean).toFixed(2)}×`;
  const numbers = `${versus(m.stepsToTarget, a.stepsToTarget, 0)} steps, ${ratio}`;
  const d = difference(m.stepsToTarget, a.stepsToTarget);
  if (d.kind === 'no-spread') {
    if (seeds === 1) return `Muon reached ${target} in ${numbers}, but one seed gives no noise estimate, so no difference is called (run --seeds 3)`;
    return `Muon reached ${target} in ${numbers}, but only ${m.reachedTarget} of Muon's and ${a.reachedTarget} of AdamW's ${seeds} seeds reached it, ` +
      'too few for a noise estimate, so no difference is called';
  }
  const test = `${formatP(d.p)}, two-sample t-test over the seeds that reached it`;
  if (d.kind === 'noise') return `Muon and AdamW reached ${target} in the same steps within seed noise (${numbers}; ${test})`;
  if (m.stepsToTarget.mean > a.stepsToTarget.mean) return `Muon needed more steps than AdamW to reach ${target} (${numbers}; beyond seed noise: ${test})`;
  if (m.reachedTarget < seeds) return `Muon reached ${target} in ${numbers} beyond seed noise (${test}), but in only ${m.reachedTarget} of its ${seeds} seeds`;
  return `Muon reached ${target} in fewer steps than AdamW (${numbers}; beyond seed noise: ${test})`;
}

/** "a", "a and b", "a, b and c". */
const listed = (items: readonly string[]): string => (items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items.at(-1) as string}`);

/** The clause naming where Muon is behind AdamW: beyond seed noise, within it, or without a noise estimate (one seed). */
function lossesClause(muon: OptimizerResult, adamw: OptimizerResult, busy: boolean): string {
  const behind = COLUMNS.flatMap((c) => {
    const m = c.stat(muon);
    const a = c.stat(adamw);
    if (m.n === 0 || a.n === 0 || !Number.isFinite(m.mean) || !Number.isFinite(a.mean)) return [];
    const worse = c.higherIsBetter ? m.mean < a.mean : m.mean > a.mean;
    if (!worse) return [];
    const d = difference(m, a);
    const numbers = versus(m, a, c.decimals, c.scale, c.unit);
    const where = busy && c.unit === ' s' ? ', timed on a busy machine' : '';
    return [{ kind: d.kind, text: `${c.name} (${numbers}${d.kind === 'no-spread' ? '' : `, ${formatP(d.p)}`}${where})` }];
  });
  if (behind.length === 0) return `it is behind AdamW in none of ${listed(COLUMNS.map((c) => c.name))}`;
  const of = (kind: Difference['kind']): string[] => behind.filter((b) => b.kind === kind).map((b) => b.text);
  return [
    ...(of('beyond-noise').length > 0 ? [`it loses to AdamW beyond seed noise in ${listed(of('beyond-noise'))}`] : []),
    ...(of('noise').length > 0 ? [`it is behind within seed noise in ${listed(of('noise'))}`] : []),
    ...(of('no-spread').length > 0 ? [`it is behind AdamW, with no noise estimate, in ${listed(of('no-spread'))}`] : []),
  ].join(', and ');
}

/**
 * The comparison's answer on one model in one sentence: whether Muon (the hybrid) reached AdamW's
 * final training loss in fewer steps, said only when the difference is beyond seed noise (a
 * two-sample t-test at p < {@link NOISE_P_VALUE} over the seeds that reached it, all of Muon's
 * having to), and where Muon is behind AdamW (seconds to that loss, test loss and accuracy, final
 * training loss), each marked as beyond or within seed noise; `busy` (the machine's load was above
 * its cores) marks the seconds as timed on a busy machine. Null without both Muon and AdamW.
 * @example
 * verdictSentence(model)
 * // → "MLP, MNIST (162 steps, 3 seeds): Muon reached AdamW's final training loss (0.2012) in fewer steps than AdamW
 * //    (98 ± 4 vs 160 ± 2 steps, 0.61×; beyond seed noise: p < 0.001, …); it loses to AdamW beyond seed noise in seconds to that loss (…)."
 */
export function verdictSentence(model: ModelResult, busy = false): string | null {
  const muon = model.optimizers.find((o) => o.kind === 'muon');
  const adamw = model.optimizers.find((o) => o.kind === 'adamw');
  if (muon === undefined || adamw === undefined) return null;
  const seeds = muon.runs.length;
  return `${model.title} (${model.steps} steps, ${seeds} seed${seeds === 1 ? '' : 's'}): ${stepsClause(model, muon, adamw)}; ${lossesClause(muon, adamw, busy)}.`;
}
