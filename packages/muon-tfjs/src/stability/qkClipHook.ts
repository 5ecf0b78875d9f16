import * as tf from '@tensorflow/tfjs-core';
import type { AfterStepHook } from '../adapter/afterStepHooks.js';
import { readOnHost, syncReadsStall } from '../math/hostReads.js';
import { type QKClipOptions, qkClipValues, qkClipValuesOnDevice } from './qkClip.js';
import type { QKClipLayout } from './qkClipComponents.js';

/** One attention layer for {@link qkClipHook}: where its heads are, and how to read its maximum logits. */
export interface QKClipTarget extends QKClipLayout {
  /** A name for reports (e.g. the layer's). */
  readonly name: string;
  /**
   * Returns S_h per query head, as recorded over the forward passes since the previous call, and
   * starts a new record; undefined when nothing was recorded (that layer is then not clipped). A
   * returned tensor is disposed by the hook: read back at once on cpu and wasm, used on the device
   * on webgl and webgpu.
   */
  readonly maxLogits: () => ArrayLike<number> | tf.Tensor | undefined;
}

/** What {@link qkClipHook} reports after each step it ran on. */
export interface QKClipReport {
  readonly step: number;
  /** Per target that had a record: S_h and η_h per query head (η 1 where not clipped, NaN on webgl/webgpu where S_h was not finite). */
  readonly targets: readonly { readonly name: string; readonly maxLogits: readonly number[]; readonly eta: readonly number[] }[];
}

/** Options of {@link qkClipHook}. */
export interface QKClipHookOptions extends Pick<QKClipOptions, 'threshold' | 'alpha'> {
  readonly targets: readonly QKClipTarget[];
  /**
   * Receives each step's maximum logits and the η applied (for logs and plots): during the step on
   * cpu and wasm; on webgl and webgpu once an asynchronous read of them arrives, in step order,
   * without stalling the GPU.
   */
  readonly onReport?: (report: QKClipReport) => void;
}

/**
 * QK-clip as an after-step hook (MuonClip: the clip runs after every optimizer step, on the
 * maximum logits of that step's batch; Megatron-LM calls `clip_qk` right after `optimizer.step()`).
 * The new values of every target are staged through the hook's `assign`, so a step's clip is
 * all-or-nothing across layers.
 *
 * On cpu and wasm, a recorded tensor is read at once (free there) and a bad record (a non-finite
 * logit, a wrong shape) throws an error naming the layer, changing no weight. On webgl and webgpu
 * nothing is read synchronously: η is computed on the device (`qkClipValuesOnDevice`) and every
 * query/key weight is staged (×1 where no head clipped); a non-finite logit makes the staged
 * values non-finite, which the optimizer's device-side guard refuses as a whole, its error
 * surfacing on a later step. Reports then arrive asynchronously (see `onReport`).
 * @example
 * const attention = model.getLayer('block1_attention') as CausalSelfAttention;
 * optimizer.addAfterStepHook('qkClip', qkClipHook({ targets: [attention.qkClipTarget()], threshold: 100 }));
 */
export function qkClipHook(options: QKClipHookOptions): AfterStepHook {
  const { targets, onReport, ...clip } = options;
  if (!Array.isArray(targets) || targets.length === 0) {
    throw new Error('qkClipHook: targets must list at least one attention layer');
  }
  // Reports read asynchronously are delivered in step order: each waits for the one before.
  let reported: Promise<unknown> = Promise.resolve();
  return ({ step, assign }) => {
    const reports: { name: string; maxLogits: number[]; eta: number[] }[] = [];
    const onDevice: { index: number; heads: number; logits: tf.Tensor; eta: tf.Tensor }[] = [];
    for (const target of targets) {
      const { name, maxLogits: read, ...layout } = target;
      const recorded = read();
      if (recorded === undefined) continue;
      try {
        if (recorded instanceof tf.Tensor && syncReadsStall()) {
          const { eta, values } = qkClipValuesOnDevice({ ...layout, ...clip, maxLogits: recorded });
          for (const { variable, value } of values) assign(variable, value);
          onDevice.push({ index: reports.length, heads: layout.heads, logits: recorded, eta });
          reports.push({ name, maxLogits: [], eta: [] });
          continue;
        }
        const maxLogits = Array.from<number>(recorded instanceof tf.Tensor ? readAndDispose(recorded) : recorded);
        const { eta, values } = qkClipValues({ ...layout, ...clip, maxLogits });
        for (const { variable, value } of values) assign(variable, value);
        reports.push({ name, maxLogits, eta });
      } catch (error) {
        // The records are the hook's to dispose (they were made outside its tidy), read or not.
        tf.dispose([...(recorded instanceof tf.Tensor ? [recorded] : []), ...onDevice.flatMap(({ logits, eta }) => [logits, eta])]);
        throw new Error(`QK-clip of '${name}': ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      }
    }
    if (onDevice.length === 0) {
      onReport?.({ step, targets: reports });
      return;
    }
    // One read for every target's S and η, kept past the hook's tidy until it arrives.
    const flat = tf.keep(tf.concat(onDevice.flatMap(({ logits, eta }) => [tf.cast(logits, 'float32'), eta])));
    tf.dispose(onDevice.flatMap(({ logits, eta }) => [logits, eta]));
    const arrived = readOnHost(flat, (values) => Array.from(values));
    const delivered = Promise.all([arrived, reported]).then(([values]) => {
      let at = 0;
      for (const { index, heads } of onDevice) {
        const report = reports[index] as { maxLogits: number[]; eta: number[] };
        report.maxLogits.push(...values.slice(at, at + heads));
        report.eta.push(...values.slice(at + heads, at + 2 * heads));
        at += 2 * heads;
      }
      onReport?.({ step, targets: reports });
    });
    // A failed read or report rejects its own promise (an unhandled rejection the runtime reports)
    // without holding back the reports of later steps.
    reported = delivered.catch(() => undefined);
  };
}

function readAndDispose(tensor: tf.Tensor): ArrayLike<number> {
  const values = tensor.rank === 1 ? tensor.dataSync() : undefined;
  const shape = tensor.shape;
  tensor.dispose();
  if (values === undefined) throw new Error(`maxLogits must be a [heads] vector, got shape [${shape.join(', ')}]`);
  return values;
}
