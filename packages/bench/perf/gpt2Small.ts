/**
 * The GPT-2-small hidden-matrix set of issue 4, shared by the Node and browser benchmarks (no Node
 * imports here: bench/browser/page.ts is bundled for the browser).
 */

/** `[fanIn, fanOut]` kernels of one GPT-2-small block: qkv, attention out, MLP in, MLP out. */
export const GPT2_SMALL_LAYER_SHAPES = [
  [768, 2304],
  [768, 768],
  [768, 3072],
  [3072, 768],
] as const;

/**
 * The reference: the PyTorch Muon step over 12 such layers on this machine (plain 5-step
 * fp32 Newton–Schulz, OpenBLAS, 2 threads), in seconds. Scaled by layers/12 for fewer layers.
 */
export const PYTORCH_MUON_STEP_S = 12.5;
