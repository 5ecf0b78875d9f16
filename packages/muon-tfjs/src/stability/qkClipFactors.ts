import * as tf from '@tensorflow/tfjs-core';

/** QK-clip's defaults: τ = 100 and α = 0.5 (Kimi K2; Megatron-LM `qk_clip_threshold`, `qk_clip_alpha`). */
export const QK_CLIP_DEFAULTS = Object.freeze({ threshold: 100, alpha: 0.5 });

/**
 * QK-clip's factor η for every query head, from the per-head maximum logits S_h of one step.
 *
 * Per key/value group g (one group per query head in multi-head attention; G = heads/kvHeads
 * query heads sharing one key in grouped-query attention): S_g = max over the group's heads of
 * S_h, and η_g = τ/S_g where S_g > τ, else 1 (Megatron-LM `SelfAttention.clip_qk`:
 * `clamp(τ/grouped_max, max=1)`). Every head of group g gets η_g: scaling its query by η^α and
 * the shared key by η^(1−α) scales each of the group's logits by η, so the largest becomes τ and
 * none exceeds it (per-head η would need one key scale per query head, which a shared key cannot
 * take). S_h is the signed maximum of the scaled, pre-softmax logit q·k/√d over the batch, as
 * Transformer Engine reports it for Megatron-LM; a head whose logits are all ≤ τ is left alone.
 *
 * @param maxLogits S_h per query head
 * @param kvHeads key/value heads (default: as many as query heads); must divide the head count
 * @returns η per query head, each in (0, 1]
 * @example
 * qkClipFactors([50, 200, 400, 80], 100, 2); // groups {50, 200} → η 0.5, {400, 80} → η 0.25: [0.5, 0.5, 0.25, 0.25]
 */
export function qkClipFactors(maxLogits: ArrayLike<number>, threshold: number = QK_CLIP_DEFAULTS.threshold, kvHeads = maxLogits.length): number[] {
  const heads = maxLogits.length;
  checkFactorOptions(heads, threshold, kvHeads);
  const perGroup = heads / kvHeads;
  const eta: number[] = [];
  for (let g = 0; g < kvHeads; g++) {
    let groupMax = -Infinity;
    for (let h = g * perGroup; h < (g + 1) * perGroup; h++) {
      const s = maxLogits[h] as number;
      if (Number.isNaN(s) || s === Infinity) {
        throw new Error(`qkClip: maxLogits[${h}] is ${s}; a finite maximum logit per head is needed to clip`);
      }
      groupMax = Math.max(groupMax, s);
    }
    const factor = groupMax > threshold ? threshold / groupMax : 1;
    for (let i = 0; i < perGroup; i++) eta.push(factor);
  }
  return eta;
}

/**
 * {@link qkClipFactors} on the device, for S_h held in a `[heads]` tensor: the same η per query
 * head as a `[heads]` float32 tensor (the caller owns it), computed with tensor ops so that nothing
 * is read back (webgl, webgpu). A group with a NaN or +∞ logit gets η = NaN instead of an error:
 * the weights it scales become non-finite, which the optimizer's all-or-nothing guard refuses.
 * τ/S_g is divided in float32 here, in float64 by {@link qkClipFactors}: they agree to 6e-8, relative.
 * @example
 * qkClipFactorsOnDevice(tf.tensor1d([50, 200, 400, 80]), 100, 2); // [0.5, 0.5, 0.25, 0.25]
 */
export function qkClipFactorsOnDevice(maxLogits: tf.Tensor1D, threshold: number = QK_CLIP_DEFAULTS.threshold, kvHeads: number = maxLogits.shape[0]): tf.Tensor1D {
  const heads = maxLogits.shape[0];
  checkFactorOptions(heads, threshold, kvHeads);
  const perGroup = heads / kvHeads;
  return tf.tidy(() => {
    const grouped = tf.reshape(tf.cast(maxLogits, 'float32'), [kvHeads, perGroup]);
    const groupMax = tf.max(grouped, 1);
    // Checked per head before the group maximum: a GPU's max need not propagate NaN.
    const notFinite = tf.any(tf.logicalOr(tf.isNaN(grouped), tf.logicalAnd(tf.isInf(grouped), tf.greater(grouped, 0))), 1);
    const clipped = tf.where(tf.greater(groupMax, threshold), tf.div(threshold, groupMax), tf.onesLike(groupMax));
    const eta = tf.where(notFinite, tf.fill([kvHeads], Number.NaN), clipped);
    return tf.reshape(tf.tile(tf.reshape(eta, [kvHeads, 1]), [1, perGroup]), [heads]) as tf.Tensor1D;
  });
}

function checkFactorOptions(heads: number, threshold: number, kvHeads: number): void {
  if (!(typeof threshold === 'number' && Number.isFinite(threshold) && threshold > 0)) {
    throw new Error(`qkClip: threshold must be a finite number > 0, got ${String(threshold)}`);
  }
  if (!Number.isInteger(kvHeads) || kvHeads < 1 || heads % kvHeads !== 0) {
    throw new Error(`qkClip: kvHeads must be a positive divisor of the ${heads} query heads, got ${String(kvHeads)}`);
  }
}
