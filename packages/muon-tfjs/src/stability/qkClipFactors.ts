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
  if (!(typeof threshold === 'number' && Number.isFinite(threshold) && threshold > 0)) {
    throw new Error(`qkClip: threshold must be a finite number > 0, got ${String(threshold)}`);
  }
  if (!Number.isInteger(kvHeads) || kvHeads < 1 || heads % kvHeads !== 0) {
    throw new Error(`qkClip: kvHeads must be a positive divisor of the ${heads} query heads, got ${String(kvHeads)}`);
  }
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
