/**
 * muon-tfjs-bench as a library: the comparison's protocol for a study of one's own (another
 * routing rule for Muon, a warm-up, …), as docs/benchmark.md shows. The command (`npm run bench`)
 * is `src/cli/main.ts`; the models, tasks and data are the `muon-tfjs-tasks` package's.
 */
export { setupBackend, BENCH_BACKENDS, type BenchBackend } from './benchmark/runs/backend.js';
export { optimizerSpec, OPTIMIZER_KINDS, DEFAULT_OPTIMIZER_KINDS, type OptimizerKind, type OptimizerSpec } from './benchmark/protocol/optimizers.js';
export { makeBenchPlan, planEntries, type BenchFlags, type BenchPlan } from './benchmark/protocol/benchPlan.js';
export { DEFAULT_PROTOCOL, type BenchmarkEntry, type TuningProtocol } from './benchmark/protocol/tuningProtocol.js';
export { TASK_SCHEDULES } from './benchmark/protocol/taskSchedules.js';
export { runBenchmark, type RunBenchmarkOptions } from './benchmark/runBenchmark.js';
export { validateResults, type BenchResults } from './benchmark/results/results.js';
export { writeOutputs } from './benchmark/report/writeOutputs.js';
