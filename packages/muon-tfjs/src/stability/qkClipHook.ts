import * as tf from '@tensorflow/tfjs-core';
import type { AfterStepHook } from '../adapter/afterStepHooks.js';
import { type QKClipOptions, qkClipValues } from './qkClip.js';
import type { QKClipLayout } from './qkClipComponents.js';

/** One attention layer for {@link qkClipHook}: where its heads are, and how to read its maximum logits. */
export interface QKClipTarget extends QKClipLayout {
  /** A name for reports (e.g. the layer's). */
  readonly name: string;
  /**
   * Returns S_h per query head, as recorded over the forward passes since the previous call, and
   * starts a new record; undefined when nothing was recorded (that layer is then not clipped). A
   * returned tensor is read back and disposed by the hook.
   */
  readonly maxLogits: () => ArrayLike<number> | tf.Tensor | undefined;
}

/** What {@link qkClipHook} reports after each step it ran on. */
export interface QKClipReport {
  readonly step: number;
  /** Per target that had a record: S_h and η_h per query head (η 1 where not clipped). */
  readonly targets: readonly { readonly name: string; readonly maxLogits: readonly number[]; readonly eta: readonly number[] }[];
}

/** Options of {@link qkClipHook}. */
export interface QKClipHookOptions extends Pick<QKClipOptions, 'threshold' | 'alpha'> {
  readonly targets: readonly QKClipTarget[];
  /** Called after each step with the maximum logits read and the η applied (for logs and plots). */
  readonly onReport?: (report: QKClipReport) => void;
}

/**
 * QK-clip as an after-step hook (MuonClip: the clip runs after every optimizer step, on the
 * maximum logits of that step's batch; Megatron-LM calls `clip_qk` right after `optimizer.step()`).
 * The new values of every target are staged through the hook's `assign`, so a step's clip is
 * all-or-nothing across layers: an error (a bad layout, a non-finite logit) names the layer and
 * changes no weight.
 * @example
 * const attention = model.getLayer('block1_attention') as CausalSelfAttention;
 * optimizer.addAfterStepHook('qkClip', qkClipHook({ targets: [attention.qkClipTarget()], threshold: 100 }));
 */
export function qkClipHook(options: QKClipHookOptions): AfterStepHook {
  const { targets, onReport, ...clip } = options;
  if (!Array.isArray(targets) || targets.length === 0) {
    throw new Error('qkClipHook: targets must list at least one attention layer');
  }
  return ({ step, assign }) => {
    const reports: { name: string; maxLogits: number[]; eta: number[] }[] = [];
    for (const target of targets) {
      const { name, maxLogits: read, ...layout } = target;
      const recorded = read();
      if (recorded === undefined) continue;
      const maxLogits = Array.from<number>(recorded instanceof tf.Tensor ? readAndDispose(recorded, name) : recorded);
      try {
        const { eta, values } = qkClipValues({ ...layout, ...clip, maxLogits });
        for (const { variable, value } of values) assign(variable, value);
        reports.push({ name, maxLogits, eta });
      } catch (error) {
        throw new Error(`QK-clip of '${name}': ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      }
    }
    onReport?.({ step, targets: reports });
  };
}

function readAndDispose(tensor: tf.Tensor, name: string): ArrayLike<number> {
  const values = tensor.rank === 1 ? tensor.dataSync() : undefined;
  const shape = tensor.shape;
  tensor.dispose();
  if (values === undefined) throw new Error(`QK-clip of '${name}': maxLogits must be a [heads] vector, got shape [${shape.join(', ')}]`);
  return values;
}
