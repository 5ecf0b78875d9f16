import * as tf from '@tensorflow/tfjs-core';
import { type QKClipLayout, type QKPart, type ResolvedQKClipComponent, qkClipComponents } from './qkClipComponents.js';
import { QK_CLIP_DEFAULTS, qkClipFactors, qkClipFactorsOnDevice } from './qkClipFactors.js';

/** Options of {@link qkClip}: where the heads are, their maximum logits, τ and α. */
export interface QKClipOptions extends QKClipLayout {
  /**
   * S_h per query head: the maximum over the batch of the scaled pre-softmax logit q·k/√d. A
   * tensor is read back once (a `[heads]` vector), a number array is used as is. On webgl and
   * webgpu that read stalls the GPU: there use {@link qkClipValuesOnDevice} (or `qkClipHook`,
   * which does), which reads nothing.
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
  checkAlpha(alpha);
  const components = qkClipComponents(options);
  const maxLogits = readMaxLogits(options.maxLogits, options.heads);
  const kvHeads = options.kvHeads ?? options.heads;
  const eta = qkClipFactors(maxLogits, threshold, kvHeads);
  if (eta.every((e) => e === 1)) return { eta, values: [] };

  const power = partPowers(alpha);
  const scales = new Map<tf.Variable, Float32Array>();
  for (const component of components) {
    const { variable, part, blocks } = component;
    const scale = scales.get(variable) ?? new Float32Array(variable.shape[1] as number).fill(1);
    scales.set(variable, scale);
    const headsPerBlock = options.heads / blocks;
    blockOfColumn(component).forEach((b, c) => {
      // A group's heads share one η, so its first head's stands for the block.
      if (b >= 0) scale[c] = (scale[c] as number) * (eta[b * headsPerBlock] as number) ** power[part];
    });
  }
  const values = [...scales]
    .filter(([, scale]) => scale.some((s) => s !== 1))
    .map(([variable, scale]) => ({ variable, value: tf.tidy(() => tf.mul(variable, tf.tensor1d(scale))) }));
  return { eta, values };
}

/** What {@link qkClipValuesOnDevice} computes: η per query head and the new value of every weight of the layout, all tensors. */
export interface QKClipTensors {
  /** η per query head `[heads]`, 1 where the head is not clipped, NaN where its maximum logit is not finite; the caller owns it. */
  readonly eta: tf.Tensor1D;
  /** The new value of each weight of the layout (unchanged ones multiplied by exactly 1); the caller owns them. */
  readonly values: readonly { readonly variable: tf.Variable; readonly value: tf.Tensor }[];
}

/**
 * {@link qkClipValues} computed on the device, for S_h held in a `[heads]` tensor: η from
 * {@link qkClipFactorsOnDevice}, each weight multiplied by a per-column scale gathered from η^part.
 * Nothing is read back, so it runs on webgl and webgpu without a stall; whether a head was clipped
 * is not known on the host, so every weight of the layout gets a new value (×1 where nothing is
 * clipped, exact). A non-finite S_h gives non-finite values rather than an error; staged through an
 * after-step hook, the optimizer's guard then refuses the whole clip.
 */
export function qkClipValuesOnDevice(options: QKClipOptions & { readonly maxLogits: tf.Tensor }): QKClipTensors {
  const { threshold = QK_CLIP_DEFAULTS.threshold, alpha = QK_CLIP_DEFAULTS.alpha, maxLogits } = options;
  checkAlpha(alpha);
  const components = qkClipComponents(options);
  if (maxLogits.rank !== 1 || maxLogits.shape[0] !== options.heads) {
    throw new Error(`qkClip: maxLogits must hold one value per query head (${options.heads}), got a tensor of shape [${maxLogits.shape.join(', ')}]`);
  }
  const eta = qkClipFactorsOnDevice(maxLogits as tf.Tensor1D, threshold, options.kvHeads ?? options.heads);
  const power = partPowers(alpha);
  const scales = new Map<tf.Variable, tf.Tensor1D>();
  tf.tidy(() => {
    for (const component of components) {
      const { variable, part, blocks } = component;
      const headsPerBlock = options.heads / blocks;
      const firstHeads = tf.tensor1d(Array.from({ length: blocks }, (_, b) => b * headsPerBlock), 'int32');
      // Index 0 of the table is 1, for the columns outside this component's blocks.
      const table = tf.concat([tf.ones([1]), tf.pow(tf.gather(eta, firstHeads), power[part])]);
      const scale = tf.gather(table, tf.tensor1d(Array.from(blockOfColumn(component), (b) => b + 1), 'int32')) as tf.Tensor1D;
      const previous = scales.get(variable);
      scales.set(variable, tf.keep(previous === undefined ? scale : tf.mul(previous, scale)));
      previous?.dispose();
    }
  });
  const values = [...scales].map(([variable, scale]) => {
    const value = tf.mul(variable, scale);
    scale.dispose();
    return { variable, value };
  });
  return { eta, values };
}

/** The power of η each part is scaled by: q·k then scales by η exactly. */
function partPowers(alpha: number): Record<QKPart, number> {
  return { query: alpha, key: 1 - alpha, rotaryQuery: 1 };
}

/** The block each column of the component's variable belongs to, −1 outside its blocks. */
function blockOfColumn({ variable, blocks, width, offset, stride }: ResolvedQKClipComponent): Int32Array {
  const block = new Int32Array(variable.shape[1] as number).fill(-1);
  for (let b = 0; b < blocks; b++) block.fill(b, offset + b * stride, offset + b * stride + width);
  return block;
}

function checkAlpha(alpha: unknown): void {
  if (!(typeof alpha === 'number' && alpha >= 0 && alpha <= 1)) {
    throw new Error(`qkClip: alpha must be in [0, 1], got ${String(alpha)}`);
  }
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
