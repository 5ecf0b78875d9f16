/** The matrix types of arXiv 2606.04058's figures, in its order. */
export const LAYER_TYPES = ['Q', 'K', 'V', 'O', 'MLP-up', 'MLP-down'] as const;
export type LayerType = (typeof LAYER_TYPES)[number];

/** Where a block sits: the paper reports the final block apart (its exponents are steeper). */
export type BlockPosition = 'first' | 'middle' | 'final';

/** The type and block of one of the benchmark transformer's Muon matrices. */
export interface LayerRole {
  readonly type: LayerType;
  /** 1-based block index. */
  readonly block: number;
}

const SUFFIXES: Record<string, LayerType> = {
  'attention/query': 'Q',
  'attention/key': 'K',
  'attention/value': 'V',
  'attention/output': 'O',
  'mlp_in/kernel': 'MLP-up',
  'mlp_out/kernel': 'MLP-down',
};

/**
 * The role of a variable of `buildTransformer` (`block<i>_attention/query`, `block<i>_mlp_out/kernel`,
 * …, with the `_<n>` suffix tfjs-layers adds when a name is taken), or undefined for the embeddings, norms, biases and head. The benchmark's attention keeps
 * separate `[width, width]` query, key and value kernels, so no fused kernel needs splitting.
 */
export function layerRole(variable: string): LayerRole | undefined {
  const match = /^block(\d+)_(attention\/(?:query|key|value|output)|mlp_(?:in|out)\/kernel)(?:_\d+)?$/.exec(variable);
  if (match === null) return undefined;
  return { type: SUFFIXES[match[2] as string] as LayerType, block: Number(match[1]) };
}

/**
 * The positions block `block` of `depth` stands for: block 1 is the first, block `depth` the final
 * one, block ⌈depth/2⌉ the middle one when it is neither (depth ≥ 3). One block can be both first
 * and final (depth 1).
 */
export function blockPositions(block: number, depth: number): BlockPosition[] {
  const positions: BlockPosition[] = [];
  if (block === 1) positions.push('first');
  const middle = Math.ceil(depth / 2);
  if (depth >= 3 && block === middle) positions.push('middle');
  if (block === depth) positions.push('final');
  return positions;
}
