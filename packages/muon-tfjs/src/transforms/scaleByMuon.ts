import * as tf from '@tensorflow/tfjs-core';
import { fromMatrix, toMatrix } from '../math/matrixView.js';
import type { NewtonSchulzSchedule } from '../math/newtonSchulzSchedule.js';
import type { Orthogonalizer } from '../math/orthogonalizer.js';
import { type Scheduled, scheduleValue } from '../math/schedule.js';
import { type GradientTransformation, entry, mapNames } from './gradientTransformation.js';

/** Options of {@link scaleByMuon}. */
export interface ScaleByMuonOptions {
  /** β of the momentum EMA, or its schedule over the step index (modded-nanogpt's warm-up). */
  readonly momentum: Scheduled;
  /** Feed (1−β)·g + β·m to Newton–Schulz instead of m. */
  readonly nesterov: boolean;
  /** The orthogonalization's schedule, resolved once (`resolveNewtonSchulz`) and handed to the kernel as is at every step. */
  readonly newtonSchulz: NewtonSchulzSchedule;
  /** The kernel that orthogonalizes all matrices of a step together. */
  readonly orthogonalize: Orthogonalizer;
}

/** The slot holding Muon's momentum buffer, same shape as its parameter. */
export const MUON_MOMENTUM_SLOT = 'momentum';

/**
 * The tap points of {@link scaleByMuon}, each emitted per variable as the `[fanIn, fanOut]` matrix:
 * - `momentum`: the new momentum M (what the spectral-scaling paper, arXiv 2606.04058, measures);
 * - `newtonSchulzInput`: the matrix actually fed to Newton–Schulz (the Nesterov look-ahead
 *   (1−β)g + βM when `nesterov`, else M), before the Frobenius normalization;
 * - `newtonSchulzOutput`: what the kernel returned, ≈ the polar factor, before the shape scale.
 */
export const MUON_TAPS = Object.freeze({
  momentum: 'muon/momentum',
  newtonSchulzInput: 'muon/newtonSchulzInput',
  newtonSchulzOutput: 'muon/newtonSchulzOutput',
} as const);

/**
 * Muon's core (KellerJordan/Muon `muon_update`): an EMA of the gradient, m ← βm + (1−β)g, then the
 * nearest semi-orthogonal matrix of the Nesterov look-ahead (1−β)g + βm (or of m), computed by
 * Newton–Schulz on the `[fanIn, fanOut]` matrix view of each kernel.
 *
 * The EMA form (torch.optim.Muon, KJ) differs from classical momentum m ← βm + g only by the factor
 * (1−β), which the Frobenius normalization inside Newton–Schulz removes; only eps sees it.
 *
 * State: `momentum`, float32, the parameter's shape. Parameters of rank < 2 are refused.
 */
export function scaleByMuon(options: ScaleByMuonOptions): GradientTransformation {
  const { momentum, nesterov, newtonSchulz, orthogonalize } = options;
  return {
    stabilizers: [{ option: 'eps', value: newtonSchulz.eps }],
    init(name, param) {
      if (param.rank < 2) {
        throw new Error(
          `Muon orthogonalizes matrices, but variable '${name}' has shape [${param.shape.join(', ')}] (rank ${param.rank}). ` +
            'Biases, norm gains and other vectors belong to AdamW: use muonWithAdamW(), which routes them there.',
        );
      }
      return { [MUON_MOMENTUM_SLOT]: tf.zerosLike(param) };
    },
    update(grads, state, _params, { step, taps }) {
      const beta = scheduleValue(momentum, step - 1);
      // Per-variable tidies and early disposal keep the step's peak memory near its live state:
      // a Muon step over large matrices is bounded by the wasm heap (4 GiB), not by arithmetic.
      const names = Object.keys(grads);
      const momenta: Record<string, tf.Tensor> = {};
      const inputs = names.map((name) => {
        const g = entry(grads, name, 'gradient');
        const m = tf.tidy(() => tf.add(tf.mul(entry(entry(state, name, 'state'), MUON_MOMENTUM_SLOT, 'momentum'), beta), tf.mul(g, 1 - beta)));
        momenta[name] = m;
        return tf.tidy(() => toMatrix(nesterov ? tf.add(tf.mul(g, 1 - beta), tf.mul(m, beta)) : m));
      });
      if (taps.heard(MUON_TAPS.momentum)) {
        for (const name of names) {
          const matrix = toMatrix(entry(momenta, name, 'momentum'));
          taps.emit(MUON_TAPS.momentum, name, matrix);
          matrix.dispose();
        }
      }
      if (taps.heard(MUON_TAPS.newtonSchulzInput)) names.forEach((name, i) => taps.emit(MUON_TAPS.newtonSchulzInput, name, inputs[i] as tf.Tensor2D));
      const outputs = orthogonalize(inputs, newtonSchulz);
      if (taps.heard(MUON_TAPS.newtonSchulzOutput)) names.forEach((name, i) => taps.emit(MUON_TAPS.newtonSchulzOutput, name, outputs[i] as tf.Tensor2D));
      inputs.forEach((input) => {
        if (!outputs.includes(input)) input.dispose();
      });
      const updates: Record<string, tf.Tensor> = {};
      names.forEach((name, i) => {
        const output = outputs[i] as tf.Tensor2D;
        const update = fromMatrix(output, entry(grads, name, 'gradient').shape);
        if (update !== output) output.dispose(); // the reshaped view keeps the data
        updates[name] = update;
      });
      return { updates, state: mapNames(grads, (name) => ({ [MUON_MOMENTUM_SLOT]: entry(momenta, name, 'momentum') })) };
    },
  };
}
