import type { BenchResults, ModelResult, OptimizerResult } from './results.js';
import { scoreAgainstTarget, type MeasuredOptimizer } from './scoreAgainstTarget.js';

/** A part's optimizer without what depends on the target (recomputed after merging). */
function measuredOf(o: OptimizerResult): MeasuredOptimizer {
  const { summary: _summary, runs, ...rest } = o;
  return { ...rest, runs: runs.map(({ stepsToTarget: _steps, secondsToTarget: _seconds, ...run }) => run) };
}

/**
 * Joins the results of one comparison split over several processes: by model (`--models`), or by
 * optimizer with AdamW in every part (`--optimizers adamw,muon` and `--optimizers adamw,sophia`:
 * AdamW is the target's reference and the hybrids' AdamW rate, so each part tunes and runs it). The
 * parts must share seeds, protocol and backend. An optimizer in several parts must have the same
 * per-step losses in each (the runs are deterministic for a seed and backend): the first part's is
 * kept, its times included. Targets, steps and times to target are recomputed on the joined set.
 * `totalSeconds` and `totalCpuSeconds` are sums over the parts (their cost run one after another).
 */
export function mergeResults(parts: readonly BenchResults[], command: string): BenchResults {
  const first = parts[0];
  if (first === undefined) throw new Error('mergeResults: no results to merge');
  const same = (what: string, f: (r: BenchResults) => unknown): void => {
    parts.forEach((p, i) => {
      if (JSON.stringify(f(p)) !== JSON.stringify(f(first))) {
        throw new Error(`mergeResults: part ${i + 1} (${p.command}) differs from part 1 (${first.command}) in ${what}: ${JSON.stringify(f(p))} vs ${JSON.stringify(f(first))}`);
      }
    });
  };
  same('schemaVersion', (r) => r.schemaVersion);
  same('seeds', (r) => r.config.seeds);
  same('protocol', (r) => [r.config.tuneFraction, r.config.maxExtensions]);
  same('backend', (r) => r.machine.backend);

  const models = new Map<string, { model: ModelResult; optimizers: Map<string, OptimizerResult> }>();
  parts.forEach((part, i) => {
    for (const model of part.models) {
      const known = models.get(model.id);
      if (known === undefined) {
        models.set(model.id, { model, optimizers: new Map(model.optimizers.map((o) => [o.kind, o])) });
        continue;
      }
      if (known.model.steps !== model.steps || known.model.tuneSteps !== model.tuneSteps) {
        throw new Error(`mergeResults: model '${model.id}' has ${model.steps} steps (tuning ${model.tuneSteps}) in part ${i + 1}, ${known.model.steps} (${known.model.tuneSteps}) before`);
      }
      for (const o of model.optimizers) {
        const earlier = known.optimizers.get(o.kind);
        if (earlier === undefined) {
          known.optimizers.set(o.kind, o);
          continue;
        }
        o.runs.forEach((run, s) => {
          const other = earlier.runs[s];
          if (other === undefined || other.seed !== run.seed || JSON.stringify(other.losses) !== JSON.stringify(run.losses)) {
            throw new Error(`mergeResults: '${o.kind}' on '${model.id}', seed ${run.seed}: part ${i + 1}'s losses differ from an earlier part's (not the same run)`);
          }
        });
      }
    }
  });

  for (const [id, { optimizers }] of models) {
    const adamw = optimizers.get('adamw');
    for (const o of optimizers.values()) {
      if (adamw !== undefined && o.auxLearningRate !== null && o.auxLearningRate !== adamw.learningRate) {
        throw new Error(`mergeResults: '${o.kind}' on '${id}' trained its AdamW group at ${o.auxLearningRate}, but AdamW's search chose ${adamw.learningRate}`);
      }
    }
  }
  const merged = [...models.values()].map(({ model, optimizers }) => ({
    ...model,
    ...scoreAgainstTarget([...optimizers.values()].map(measuredOf)),
  }));
  return {
    ...first,
    createdAt: new Date().toISOString(),
    command,
    config: {
      ...first.config,
      models: merged.map((m) => m.id),
      optimizers: [...new Set(parts.flatMap((p) => p.config.optimizers))],
      epochs: Object.assign({}, ...parts.map((p) => p.config.epochs)) as Record<string, number>,
    },
    totalSeconds: parts.reduce((s, p) => s + p.totalSeconds, 0),
    totalCpuSeconds: parts.reduce((s, p) => s + p.totalCpuSeconds, 0),
    parts: parts.map((p) => ({ command: p.command, createdAt: p.createdAt, totalSeconds: p.totalSeconds, totalCpuSeconds: p.totalCpuSeconds })),
    models: merged,
  };
}
