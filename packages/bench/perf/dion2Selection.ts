/**
 * `npm run bench:dion2`: what Dion2's submatrix selection does on the wide MLP (784-512-512-10,
 * batch 128; the benchmark's `dion2` hybrid at the middle of its lr grid, the seeded batches and
 * weights of bench:model-step), per Dion2 matrix:
 *
 * - which slices it orthogonalizes: the share of its slices selected at least once after 1, 10 and
 *   `--steps` steps, and the longest a slice waited between two selections (its momentum
 *   accumulates meanwhile: error feedback);
 * - how well: at the last step, the orthogonality error ‖O − UVᵀ‖_F / ‖UVᵀ‖_F of the selected
 *   submatrix's Newton–Schulz output (Dion2's schedule, the default kernel) against its float64
 *   SVD polar factor, next to the same error for Muon's whole matrix (the same M + G, the same
 *   schedule): the error of the orthogonalization itself, not of the selection.
 *
 * The selection is recomputed here from the optimizer's momentum slot and the step's gradient with
 * the library's own functions (`selectedSide`, `largestL1Rows`), as `scaleByDion2` computes it.
 * Results go to bench-results/dion2-selection-<time>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { setupBackend } from '../src/benchmark/runs/backend.js';
import { optimizerSpec } from '../src/benchmark/protocol/optimizers.js';
import { DEFAULT_SCALE, createTask } from 'muon-tfjs-tasks/catalog';
import { polarFactor, relativeFrobenius } from 'muon-tfjs/diagnostics';
import { commandLine, machineInfo, printMachine } from 'muon-tfjs-harness';
import { fastestOrthogonalizer, gatherRows, type HybridOptimizer, largestL1Rows, matrixShape, type ResolvedDion2Options, selectedCount, selectedSide, sliceView, toMatrix } from 'muon-tfjs';
import { StepTrainer } from './stepTrainer.js';

const USAGE = `Usage: npm run bench:dion2 [-- options]

Dion2's submatrix selection on the wide MLP (784-512-512-10, batch 128): the share of each
matrix's slices orthogonalized at least once, the longest wait between selections, and the
orthogonality error of the selected submatrix against its float64 polar factor (and Muon's on the
whole matrix). Writes bench-results/dion2-selection-<time>.json.

Options:
  --steps N        training steps (default 100)
  -h, --help       this text
`;

// Parsed first, so that --help or a wrong flag never starts a measurement.
const args = commandLine({ usage: USAGE, strings: ['steps'] });

/** The steps after which the coverage is reported (and the last one). */
const COVERAGE_AT = [1, 10];

async function main(): Promise<void> {
  const steps = Number(args['steps'] ?? 100);
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`--steps must be an integer ≥ 1, got ${String(args['steps'])}`);
  await setupBackend('wasm');
  printMachine(machineInfo());
  const spec = optimizerSpec('dion2');
  const learningRate = spec.grid[Math.floor(spec.grid.length / 2)] as number;
  const trainer = new StepTrainer(createTask('wide-mlp', DEFAULT_SCALE), spec, learningRate, 0.003);
  const hybrid = trainer.optimizer as HybridOptimizer;
  const options = hybrid.groupOptions('muon') as ResolvedDion2Options;
  const matrices = hybrid.describeRouting().filter((r) => r.optimizer === 'dion2');
  console.log(`Dion2 lr ${learningRate}, fraction ${options.fraction}, errorFeedbackDecay ${options.errorFeedbackDecay}, ${String(options.coefficients)} × ${options.nsSteps}; ${steps} steps; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);

  const lastSelected = new Map<string, Int32Array>();
  const longestWait = new Map(matrices.map((r) => [r.variable, 0]));
  const everSelected = new Map(matrices.map((r) => [r.variable, new Set<number>()]));
  const coverage = new Map(matrices.map((r) => [r.variable, [] as { step: number; share: number }[]]));
  const errors: { variable: string; submatrix: number[]; dion2Error: number; matrix: number[]; muonError: number }[] = [];
  for (let step = 1; step <= steps; step++) {
    trainer.step(false, (grads) => {
      for (const { variable, shape } of matrices) {
        const side = selectedSide(matrixShape(shape));
        const g = grads[variable] as tf.Tensor;
        const momentum = hybrid.getSlot(variable, 'momentum') ?? tf.zerosLike(g);
        const view = tf.tidy(() => sliceView(toMatrix(tf.add(momentum, g)), side));
        const slices = view.shape[0];
        const indices = largestL1Rows(view, selectedCount(slices, options.fraction));
        const chosen = new Set(indices.dataSync());
        // The step at which each slice was last selected (0: not yet).
        const waits = lastSelected.get(variable) ?? new Int32Array(slices);
        for (let i = 0; i < slices; i++) {
          if (chosen.has(i)) waits[i] = step;
          else longestWait.set(variable, Math.max(longestWait.get(variable) ?? 0, step - (waits[i] as number)));
        }
        lastSelected.set(variable, waits);
        chosen.forEach((i) => everSelected.get(variable)?.add(i));
        if (COVERAGE_AT.includes(step) || step === steps) coverage.get(variable)?.push({ step, share: (everSelected.get(variable)?.size ?? 0) / slices });
        if (step === steps) {
          const submatrix = gatherRows(view, indices);
          const [selectedOutput, wholeOutput] = fastestOrthogonalizer()([submatrix, view], options.schedule) as [tf.Tensor2D, tf.Tensor2D];
          errors.push({
            variable,
            submatrix: submatrix.shape,
            dion2Error: relativeFrobenius(selectedOutput.dataSync(), polarFactor(submatrix).data),
            matrix: view.shape,
            muonError: relativeFrobenius(wholeOutput.dataSync(), polarFactor(view).data),
          });
          tf.dispose([submatrix, selectedOutput, wholeOutput]);
        }
        if (hybrid.getSlot(variable, 'momentum') === undefined) momentum.dispose();
        tf.dispose([view, indices]);
      }
    });
  }

  const rows = matrices.map(({ variable, shape }) => {
    const error = errors.find((e) => e.variable === variable);
    const row = { variable, shape, side: selectedSide(matrixShape(shape)), coverage: coverage.get(variable), longestWaitSteps: longestWait.get(variable), ...error };
    console.log(
      `${variable.padEnd(26)} [${shape.join(', ')}] selects ${row.side}; selected at least once: ${(row.coverage ?? []).map((c) => `${(100 * c.share).toFixed(0)}% by step ${c.step}`).join(', ')}; ` +
        `longest wait ${String(row.longestWaitSteps)} steps; orthogonality error at step ${steps}: Dion2 [${error?.submatrix.join('×')}] ${error?.dion2Error.toFixed(4)}, Muon [${error?.matrix.join('×')}] ${error?.muonError.toFixed(4)}`,
    );
    return row;
  });
  mkdirSync('bench-results', { recursive: true });
  const file = `bench-results/dion2-selection-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
  writeFileSync(file, JSON.stringify({ machine: machineInfo(), load: loadavg(), steps, learningRate, options, rows }, null, 2));
  console.log(`wrote ${file}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
