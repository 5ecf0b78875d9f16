import type { GpuBenchResult } from './gpuBench.js';

/** The targets on a real GPU (issue 21): Muon's training step ≤ 1.3× AdamW's, NS ≥ 25% of the matmul rate. */
export const STEP_TARGET = 1.3;
export const NEWTON_SCHULZ_RATE_TARGET = 0.25;

/** Where a backend ran. */
export type Environment = 'chromium' | 'node';

/** One backend's entry in the results: its measurements, or why it did not come up. */
export type BackendOutcome =
  | ({ readonly environment: Environment; readonly note?: string } & GpuBenchResult)
  | { readonly environment: Environment; readonly backend: string; readonly error: string; readonly note?: string };

const round = (value: number, digits = 2): string => (Number.isFinite(value) ? value.toFixed(digits) : '—');

/** A target's cell: a software adapter's figures are never scored against a GPU target. */
function verdict(met: boolean, software: boolean): string {
  return software ? 'n/a (software)' : met ? 'yes' : 'no';
}

/** The printed tables of `npm run bench:gpu`: backends and adapters, model steps, the Newton–Schulz micro-benchmark. */
export function formatGpuBenchTables(outcomes: readonly BackendOutcome[]): string {
  const lines: string[] = [];
  lines.push('| where | backend | adapter / renderer | software | Muon NS kernel | dispatches count | note |', '|---|---|---|---|---|---|---|');
  for (const o of outcomes) {
    if ('error' in o) lines.push(`| ${o.environment} | ${o.backend} | did not come up: ${o.error} | | | | ${o.note ?? ''} |`);
    else lines.push(`| ${o.environment} | ${o.backend} | ${o.adapter.name} | ${o.adapter.software ? 'YES: not GPU figures' : 'no'} | ${o.orthogonalizer.kernel} (${o.orthogonalizer.engine}) | ${o.dispatchUnit} | ${o.note ?? ''} |`);
  }
  const measured = outcomes.filter((o): o is Extract<BackendOutcome, GpuBenchResult> => !('error' in o));
  lines.push('', `| where | backend | model | Muon step, ms | AdamW step, ms | Muon / AdamW | ≤ ${STEP_TARGET}× | NS per step, ms | dispatches: Muon step (optimizer) | AdamW step (optimizer) | NS |`, '|---|---|---|---|---|---|---|---|---|---|---|');
  for (const o of measured) {
    for (const m of o.models) {
      const [muon, adamw] = [m.optimizers.find((t) => t.optimizer === 'muon'), m.optimizers.find((t) => t.optimizer === 'adamw')];
      lines.push(`| ${o.environment} | ${o.backend} | ${m.model} | ${round(muon?.stepMs ?? Number.NaN)} | ${round(adamw?.stepMs ?? Number.NaN)} | ${round(m.muonVsAdamW)}× | ${verdict(m.muonVsAdamW <= STEP_TARGET, o.adapter.software)} | ${round(m.newtonSchulzMs)} | ${muon?.dispatchesPerStep ?? '—'} (${muon?.optimizerDispatchesPerStep ?? '—'}) | ${adamw?.dispatchesPerStep ?? '—'} (${adamw?.optimizerDispatchesPerStep ?? '—'}) | ${m.newtonSchulzDispatches} |`);
    }
    for (const e of o.errors) lines.push(`| ${o.environment} | ${o.backend} | ${e.what} | failed: ${e.error} | | | | | | | |`);
  }
  lines.push('', `| where | backend | Newton–Schulz | algorithm | NS, ms | NS GFLOP/s | matmul GFLOP/s | NS / matmul | ≥ ${NEWTON_SCHULZ_RATE_TARGET * 100}% | NS dispatches |`, '|---|---|---|---|---|---|---|---|---|---|');
  for (const o of measured) {
    const ns = o.newtonSchulz;
    if (ns === null) continue;
    lines.push(`| ${o.environment} | ${o.backend} | ${ns.shape.join('×')} | ${ns.algorithm} | ${round(ns.ms)} | ${round(ns.gflops, 1)} | ${round(ns.matmulGflops, 1)} | ${round(ns.rateVsMatmul * 100, 0)}% | ${verdict(ns.rateVsMatmul >= NEWTON_SCHULZ_RATE_TARGET, o.adapter.software)} | ${ns.dispatches} |`);
  }
  return lines.join('\n');
}
