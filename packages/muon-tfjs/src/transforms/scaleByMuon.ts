import * as tf from '@tensorflow/tfjs-core';
import { readOnHost, syncReadsStall } from '../math/hostReads.js';
import { fromMatrix, toMatrix } from '../math/matrixView.js';
import { layerAwareSchedule, lowerBoundFloor, measuredLowerBound, storedLowerBound } from '../math/layerAwareSchedule.js';
import type { NewtonSchulzSchedule } from '../math/newtonSchulzSchedule.js';
import type { Orthogonalizer } from '../math/orthogonalizer.js';
import type { Scheduled } from '../math/schedule.js';
import { type GradientTransformation, type StepContext, entry, mapNames, scheduledAt } from './gradientTransformation.js';

/** Options of {@link scaleByMuon}. */
export interface ScaleByMuonOptions {
  /** β of the momentum EMA, or its schedule over the step index (modded-nanogpt's warm-up). */
  readonly momentum: Scheduled;
  /** Feed (1−β)·g + β·m to Newton–Schulz instead of m. */
  readonly nesterov: boolean;
  /**
   * The orthogonalization's schedule, resolved once (`resolveNewtonSchulz`) and handed to the kernel
   * as is at every step; or the schedule of each step, when the count changes over training (each
   * resolved once too; they differ in their steps only).
   */
  readonly newtonSchulz: NewtonSchulzSchedule | ((context: Pick<StepContext, 'step'>) => NewtonSchulzSchedule);
  /** The kernel that orthogonalizes all matrices of a step together. */
  readonly orthogonalize: Orthogonalizer;
  /**
   * Layer-aware Newton–Schulz (Muon's `nsSteps: 'auto'`): each matrix runs
   * `layerAwareSchedule(ℓ, newtonSchulz.eps)` for its own lower bound ℓ instead of `newtonSchulz`.
   * Where synchronous reads stall the backend (`syncReadsStall`: webgl, webgpu), ℓ is measured
   * from an asynchronous read and applies from the variable's first step after it arrives; until
   * then the floor's schedule runs (`lowerBoundFloor(maxSteps)`, the longest allowed).
   */
  readonly layerAware?: LayerAwareOptions;
}

/** How {@link scaleByMuon} decides each matrix's schedule under `nsSteps: 'auto'`. */
export interface LayerAwareOptions {
  /** Re-measure every matrix at the steps that are multiples of this (and at 1, 2, 4, … below it). */
  readonly every: number;
  /** The descending-rank quantile whose σ the schedule must lift (90: q90, the top 90% of directions). */
  readonly percent: number;
  /** No matrix runs more iterations than this: quantiles below `lowerBoundFloor(maxSteps)` are clamped to it. */
  readonly maxSteps: number;
}

/**
 * The slot holding a matrix's lower bound ℓ under `nsSteps: 'auto'`: the snapped σ quantile of its
 * last measured Newton–Schulz input (0 before the first measurement). Its schedule is a function of
 * ℓ alone (`layerAwareSchedule`), so a checkpoint restores the same schedules. Shaped like the
 * parameter's last axis (ℓ repeated), so that `splitColumns` cuts it into blocks like any other
 * slot and each block keeps its own ℓ.
 */
export const MUON_LOWER_BOUND_SLOT = 'nsLowerBound';

/**
 * Whether `step` (1-based) re-measures the lower bounds: every `every` steps, and at steps 1, 2, 4,
 * 8, … before the first of those, while the momentum fills in (at step 1 it is one gradient, of
 * rank ≤ the batch size, so a layer wider than the batch has q90 = 0 there and needs the floor's
 * schedule only until its momentum has full rank).
 */
export function isLowerBoundStep(step: number, every: number): boolean {
  return step % every === 0 || (step < every && (step & (step - 1)) === 0);
}

/** The slot holding Muon's momentum buffer, same shape as its parameter. */
export const MUON_MOMENTUM_SLOT = 'momentum';

/**
 * The slot holding Muon's momentum under `momentumDtype: 'bfloat16'`: bfloat16 values packed two
 * per int32 (`packBfloat16`), shape `[ceil(size / 2)]`. A name of its own, so that a checkpoint of
 * one format is never bound to an optimizer of the other.
 */
export const MUON_BFLOAT16_MOMENTUM_SLOT = 'momentumBfloat16';

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
 * State: `momentum`, float32, the parameter's shape; with `layerAware`, also
 * {@link MUON_LOWER_BOUND_SLOT}. Parameters of rank < 2 are refused.
 */
export function scaleByMuon(options: ScaleByMuonOptions): GradientTransformation {
  const { momentum, nesterov, newtonSchulz, orthogonalize, layerAware } = options;
  const scheduleAt = typeof newtonSchulz === 'function' ? newtonSchulz : () => newtonSchulz;
  // Every step's schedule has the same eps (only the count changes over training).
  const { eps } = scheduleAt({ step: 1 });
  const floor = layerAware === undefined ? undefined : lowerBoundFloor(layerAware.maxSteps, eps);
  // ℓ of the slot tensors this transformation wrote, by their data: between measurements a slot
  // passes through unchanged, so a step reads its ℓ here rather than back from the backend.
  const known = new WeakMap<object, number>();
  const written = (bound: number, shape: readonly number[]): tf.Tensor => {
    const slot = tf.fill([...shape], bound);
    known.set(slot.dataId, bound);
    return slot;
  };
  // Where a synchronous read would stall the GPU (webgl, webgpu), slots and Newton–Schulz inputs
  // are read with `data()` instead; what arrives waits here for the variable's next step.
  const deferred = {
    /** Measured ℓ by variable name, to be written at its next step. */
    arrived: new Map<string, number>(),
    /** Variables with a read in flight: one at a time each. */
    reading: new Set<string>(),
    /** The first failed read (a slot that holds no grid point), thrown at the next step. */
    failure: undefined as Error | undefined,
  };
  const readLater = (name: string, tensor: tf.Tensor, use: (values: tf.TypedArray) => number | undefined): void => {
    deferred.reading.add(name);
    void readOnHost(tf.keep(tf.clone(tensor)), use).then(
      (bound) => {
        if (bound !== undefined) deferred.arrived.set(name, bound);
      },
      (error: unknown) => {
        deferred.failure ??= new Error(`scaleByMuon: variable '${name}': ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      },
    ).finally(() => deferred.reading.delete(name));
  };
  const lowerBoundOf = (slot: tf.Tensor): number => {
    let bound = known.get(slot.dataId);
    if (bound === undefined) {
      bound = storedLowerBound(slot.dataSync());
      known.set(slot.dataId, bound);
    }
    return bound;
  };
  /** Today's choice where reads are free: measure now, so the step runs the schedule its own input calls for. */
  const immediateLowerBound = (step: number, slot: tf.Tensor, input: tf.Tensor2D, options: LayerAwareOptions): { bound: number; slot: tf.Tensor } => {
    const stored = isLowerBoundStep(step, options.every) ? 0 : lowerBoundOf(slot);
    if (stored !== 0) return { bound: stored, slot: tf.clone(slot) };
    const bound = measuredLowerBound(input.dataSync(), input.shape[0], input.shape[1], options.percent, floor);
    return { bound, slot: written(bound, slot.shape) };
  };
  /**
   * The choice on stalling backends: the step runs the slot's ℓ (the floor's schedule, the longest
   * allowed, while none is known yet), and a measurement due now is read asynchronously and
   * written, with its schedule, at the variable's first step after it arrives.
   */
  const deferredLowerBound = (name: string, step: number, slot: tf.Tensor, input: tf.Tensor2D, options: LayerAwareOptions): { bound: number; slot: tf.Tensor } => {
    const arrived = deferred.arrived.get(name);
    deferred.arrived.delete(name);
    const current = arrived ?? known.get(slot.dataId);
    if (!deferred.reading.has(name)) {
      if (current === undefined) {
        // A slot this transformation did not write (a restored checkpoint): learn its ℓ.
        readLater(name, slot, (values) => {
          known.set(slot.dataId, storedLowerBound(values));
          return undefined;
        });
      } else if (current === 0 || isLowerBoundStep(step, options.every)) {
        readLater(name, input, (values) => measuredLowerBound(values, input.shape[0], input.shape[1], options.percent, floor));
      }
    }
    const bound = current === undefined || current === 0 ? (floor as number) : current;
    return { bound, slot: arrived === undefined ? tf.clone(slot) : written(arrived, slot.shape) };
  };
  return {
    stabilizers: [{ option: 'eps', value: eps }],
    tapPoints: Object.values(MUON_TAPS),
    init(name, param) {
      if (param.rank < 2) {
        throw new Error(
          `Muon orthogonalizes matrices, but variable '${name}' has shape [${param.shape.join(', ')}] (rank ${param.rank}). ` +
            'Biases, norm gains and other vectors belong to AdamW: use muonWithAdamW(), which routes them there.',
        );
      }
      const momentumSlot = { [MUON_MOMENTUM_SLOT]: tf.zerosLike(param) };
      if (layerAware === undefined) return momentumSlot;
      return { ...momentumSlot, [MUON_LOWER_BOUND_SLOT]: written(0, [param.shape[param.rank - 1] as number]) };
    },
    nonNegativeSlots: [MUON_LOWER_BOUND_SLOT],
    update(grads, state, _params, context) {
      const { step, taps } = context;
      const failure = deferred.failure;
      deferred.failure = undefined;
      if (failure !== undefined) throw failure;
      const beta = scheduledAt(momentum, context);
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
      const lowerBounds: Record<string, tf.Tensor> = {};
      // An empty matrix ([0, n]: a layer with no inputs) has nothing to orthogonalize: it is its
      // own output, and no kernel receives it (the native kernels refuse empty matrices).
      const empty = new Set(names.filter((_, i) => (inputs[i] as tf.Tensor2D).size === 0));
      const fixed = scheduleAt(context);
      const schedules = names.map((name, i) => {
        if (layerAware === undefined) return fixed;
        const slot = entry(entry(state, name, 'state'), MUON_LOWER_BOUND_SLOT, 'lower bound');
        if (empty.has(name)) {
          lowerBounds[name] = tf.clone(slot);
          return fixed;
        }
        const input = inputs[i] as tf.Tensor2D;
        const { bound, slot: next } = syncReadsStall() ? deferredLowerBound(name, step, slot, input, layerAware) : immediateLowerBound(step, slot, input, layerAware);
        lowerBounds[name] = next;
        return layerAwareSchedule(bound, eps);
      });
      // One kernel call per distinct schedule (the memoized schedules are shared objects), so the
      // kernel still batches same-shape matrices within each.
      const outputs = new Array<tf.Tensor2D>(names.length);
      const groups = new Map<NewtonSchulzSchedule, number[]>();
      schedules.forEach((schedule, i) => {
        if (empty.has(names[i] as string)) outputs[i] = inputs[i] as tf.Tensor2D;
        else groups.set(schedule, [...(groups.get(schedule) ?? []), i]);
      });
      for (const [schedule, indices] of groups) {
        const results = orthogonalize(indices.map((i) => inputs[i] as tf.Tensor2D), schedule);
        indices.forEach((i, k) => {
          outputs[i] = results[k] as tf.Tensor2D;
        });
      }
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
      return {
        updates,
        state: mapNames(grads, (name) => ({
          [MUON_MOMENTUM_SLOT]: entry(momenta, name, 'momentum'),
          ...(layerAware === undefined ? {} : { [MUON_LOWER_BOUND_SLOT]: entry(lowerBounds, name, 'lower bound') }),
        })),
      };
    },
  };
}
