import type * as tf from '@tensorflow/tfjs-core';

/**
 * The part of attention a weight block computes, which fixes the power of η it is scaled by:
 * `query` η^α, `key` η^(1−α) (so that q·k scales by η), `rotaryQuery` η (the per-head rotary query
 * of multi-head latent attention, whose partner, the rotary key, is shared by every head and is
 * left alone: Kimi K2; Megatron-LM MLA `clip_qk`: `q_pe *= η`, `k_pe` untouched).
 */
export type QKPart = 'query' | 'key' | 'rotaryQuery';

/**
 * One weight QK-clip rescales, block by block: a `[fanIn, columns]` kernel (TF.js `[in, out]`
 * layout) whose block b is the columns `offset + b·stride … offset + b·stride + width − 1`.
 * Block b belongs to query head b when there are as many blocks as query heads, else to key/value
 * group b (there must then be as many blocks as groups).
 */
export interface QKClipComponent {
  readonly variable: tf.Variable;
  readonly part: QKPart;
  /** Number of blocks: the query heads, or the key/value groups. */
  readonly blocks: number;
  /** Columns per block (head_dim, or the non-rotary or rotary part of it). */
  readonly width: number;
  /** First column of block 0. Default 0. */
  readonly offset?: number;
  /** Columns from one block's start to the next one's. Default `width` (blocks side by side). */
  readonly stride?: number;
}

/**
 * Where the heads of one attention layer sit in its weights: separate `query` and `key` kernels,
 * a fused QKV kernel (`query` alone), or declared components (multi-head latent attention).
 */
export interface QKClipLayout {
  /** The query kernel `[dModel, heads·headDim]`; with no `key`, the fused `[dModel, (heads + 2·kvHeads)·headDim]` kernel with columns Q | K | V. */
  readonly query?: tf.Variable;
  /** The key kernel `[dModel, kvHeads·headDim]`. */
  readonly key?: tf.Variable;
  /** Declared components, instead of `query`/`key` (e.g. MLA's non-rotary and rotary parts). */
  readonly components?: readonly QKClipComponent[];
  /** Query heads. */
  readonly heads: number;
  /** Key/value heads for grouped-query attention (1: multi-query). Default `heads`. */
  readonly kvHeads?: number;
}

/** A component with every default filled in and checked against its variable's shape. */
export type ResolvedQKClipComponent = Required<QKClipComponent>;

/** Resolves a layout into checked components; errors name the variable and the shape at fault. */
export function qkClipComponents(layout: QKClipLayout): ResolvedQKClipComponent[] {
  const { query, key, components, heads } = layout;
  const kvHeads = layout.kvHeads ?? heads;
  if (!Number.isInteger(heads) || heads < 1) throw new Error(`qkClip: heads must be a positive integer, got ${String(heads)}`);
  if (!Number.isInteger(kvHeads) || kvHeads < 1 || heads % kvHeads !== 0) {
    throw new Error(`qkClip: kvHeads must be a positive divisor of heads (${heads}), got ${String(kvHeads)}`);
  }
  let declared: QKClipComponent[];
  if (components !== undefined) {
    if (query !== undefined || key !== undefined) throw new Error('qkClip: give either query/key or components, not both');
    declared = [...components];
  } else if (query === undefined) {
    throw new Error('qkClip: no weights to clip: give query and key, a fused query (QKV) kernel, or components');
  } else if (key !== undefined) {
    const headDim = columnsOf(query) / heads;
    declared = [
      { variable: query, part: 'query', blocks: heads, width: headDim },
      { variable: key, part: 'key', blocks: kvHeads, width: columnsOf(key) / kvHeads },
    ];
  } else {
    // Fused QKV: columns Q (heads blocks) | K (kvHeads blocks) | V (kvHeads blocks, untouched).
    const headDim = columnsOf(query) / (heads + 2 * kvHeads);
    declared = [
      { variable: query, part: 'query', blocks: heads, width: headDim },
      { variable: query, part: 'key', blocks: kvHeads, width: headDim, offset: heads * headDim },
    ];
  }
  return declared.map((c) => checkComponent(c, heads, kvHeads));
}

function columnsOf(variable: tf.Variable): number {
  if (variable.shape.length !== 2) {
    throw new Error(`qkClip: '${variable.name}' must be a 2-D [dModel, columns] kernel, got shape [${variable.shape.join(', ')}]`);
  }
  return variable.shape[1] as number;
}

function checkComponent(c: QKClipComponent, heads: number, kvHeads: number): ResolvedQKClipComponent {
  const name = c.variable?.name ?? String(c.variable);
  const columns = columnsOf(c.variable);
  const offset = c.offset ?? 0;
  const stride = c.stride ?? c.width;
  if (!['query', 'key', 'rotaryQuery'].includes(c.part)) throw new Error(`qkClip: '${name}': part must be query, key or rotaryQuery, got ${String(c.part)}`);
  if (c.blocks !== heads && c.blocks !== kvHeads) {
    throw new Error(`qkClip: '${name}' (${c.part}) has ${c.blocks} blocks; expected one per query head (${heads}) or per key/value group (${kvHeads})`);
  }
  for (const [field, value] of [['width', c.width], ['offset', offset], ['stride', stride]] as const) {
    if (!Number.isInteger(value) || value < (field === 'offset' ? 0 : 1)) {
      throw new Error(`qkClip: '${name}' (${c.part}): ${field} must be a ${field === 'offset' ? 'non-negative' : 'positive'} integer, got ${String(value)}`);
    }
  }
  if (stride < c.width || offset + (c.blocks - 1) * stride + c.width > columns) {
    throw new Error(
      `qkClip: '${name}' of shape [${c.variable.shape.join(', ')}] cannot hold ${c.blocks} ${c.part} blocks of width ${c.width} at offset ${offset}, stride ${stride}`,
    );
  }
  return { variable: c.variable, part: c.part, blocks: c.blocks, width: c.width, offset, stride };
}
