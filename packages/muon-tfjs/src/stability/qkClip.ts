import * as tf from '@tensorflow/tfjs-core';
import { type QKClipLayout, type QKPart, qkClipComponents } from './qkClipComponents.js';
import { QK_CLIP_DEFAULTS, qkClipFactors } from './qkClipFactors.js';

/** Options of {@link qkClip}: where the heads are, their maximum logits, τ and α. */
export interface QKClipOptions extends QKClipLayout {
  /**
   * S_h per query head: the maximum over the batch of the scaled pre-softmax logit q·k/√d. A
   * tensor is read back once (a `[heads]` vector), a number array is used as is.
   */
  readonly maxLogits: ArrayLike<number> | tf.Tensor;
  /** τ: heads whose maximum logit exceeds it are clipped back to it. Default 100 (Kimi K2, Megatron-LM). */
  readonly threshold?: number;
  /** α in [0, 1]: the query takes η^α, the key η^(1−α). Default 0.5 (Megatron-LM `qk_clip_alpha`). */
  readonly alpha?: number;
}

/** What {@link qkClipValues} computes: η per query head and the new value of each weight it changes. */
export interface QKClipValues {
  /** η per query head, 1 where the head is not clipped. */
  readonly eta: number[];
  /** The new values, one per weight with a clipped block (none when no head exceeds τ); the caller owns them. */
  readonly values: readonly { readonly variable: tf.Variable; readonly value: tf.Tensor }[];
}

/**
 * The new values QK-clip gives the query and key weights, without assigning them (QK-Clip of
 * MuonClip, Kimi K2 arXiv 2507.20534; Megatron-LM `clip_qk`). With η per head from
 * {@link qkClipFactors}, each block is scaled by η to the power of its part: W_q,h ← η^α·W_q,h,
 * W_k,h ← η^(1−α)·W_k,h (one η per key/value group in grouped-query attention), a rotary query
 * part by η, V never. Since the logit is linear in W_q,h and in W_k,h, head h's logits scale by
 * η exactly, so the batch that measured S_h gives at most τ after the clip.
 */
export function qkClipValues(options: QKClipOptions): QKClipValues {
  const { threshold = QK_CLIP_DEFAULTS.threshold, alpha = QK_CLIP_DEFAULTS.alpha } = options;
  if (!(typeof alpha === 'number' && alpha >= 0 && alpha <= 1)) {
    throw new Error(`qkClip: alpha must be in [0, 1], got ${String(alpha)}`);
  }
  const components = qkClipComponents(options);
  const maxLogits = readMaxLogits(options.maxLogits, options.heads);
  const kvHeads = options.kvHeads ?? options.heads;
  const eta = qkClipFactors(maxLogits, threshold, kvHeads);
  if (eta.every((e) => e === 1)) return { eta, values: [] };

  const power: Record<QKPart, number> = { query: alpha, key: 1 - alpha, rotaryQuery: 1 };
  const scales = new Map<tf.Variable, Float32Array>();
  for (const { variable, part, blocks, width, offset, stride } of components) {
    const scale = scales.get(variable) ?? new Float32Array(variable.shape[1] as number).fill(1);
    scales.set(variable, scale);
    const headsPerBlock = options.heads / blocks;
    for (let b = 0; b < blocks; b++) {
      // A group's heads share one η, so its first head's stands for the block.
      const factor = (eta[b * headsPerBlock] as number) ** power[part];
      for (let c = offset + b * stride; c < offset + b * stride + width; c++) scale[c] = (scale[c] as number) * factor;
    }
  }
  const values = [...scales]
    .filter(([, scale]) => scale.some((s) => s !== 1))
    .map(([variable, scale]) => ({ variable, value: tf.tidy(() => tf.mul(variable, tf.tensor1d(scale))) }));
  return { eta, values };
}

/**
 * QK-clip in place: rescales the clipped heads' column blocks of `query` and `key` (or of the
 * fused QKV kernel, or of the declared components) and returns η per query head (1 where no
 * clip). Call it after the optimizer step with the maximum logits of that step's batch; as an
 * after-step hook of the optimizer, use {@link qkClipHook}, which stages the same values
 * all-or-nothing.
 * @example
 * const eta = qkClip({ query: wq, key: wk, heads: 8, maxLogits: attention.maxLogits, threshold: 100 });
 */
export function qkClip(options: QKClipOptions): number[] {
  const { eta, values } = qkClipValues(options);
  for (const { variable, value } of values) {
    variable.assign(value);
    value.dispose();
  }
  return eta;
}

function readMaxLogits(maxLogits: ArrayLike<number> | tf.Tensor, heads: number): ArrayLike<number> {
  const values = maxLogits instanceof tf.Tensor ? (maxLogits.rank === 1 ? maxLogits.dataSync() : undefined) : maxLogits;
  if (values === undefined || values === null || typeof values !== 'object' || values.length !== heads) {
    const shape = maxLogits instanceof tf.Tensor ? `a tensor of shape [${maxLogits.shape.join(', ')}]` : `length ${String((values as { length?: number } | null)?.length)}`;
    throw new Error(`qkClip: maxLogits must hold one value per query head (${heads}), got ${shape}`);
  }
  return values;
}
