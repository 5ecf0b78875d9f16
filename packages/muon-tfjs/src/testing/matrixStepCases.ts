import { loadNativeAddon } from '../kernels/nativeAddon.js';
import type { NewtonSchulzPrecision } from '../math/newtonSchulzSchedule.js';

const native = loadNativeAddon();
const info = native.available ? native.addon.info() : undefined;

/**
 * The precisions the fused Muon and Dion2 steps are compared in, with what runs here: a bfloat16
 * schedule runs float32 on both paths where bfloat16 products cannot run (said once;
 * src/kernels/nativeMuonStep.test.ts checks that fallback against float32), and is compared all the same.
 */
export const NEWTON_SCHULZ_PRECISIONS = [
  { precision: 'float32', runs: '' },
  { precision: 'bfloat16', runs: info === undefined || info.bfloat16 ? '' : ` (float32 here: bfloat16 ${info.products.bfloat16})` },
] as const satisfies readonly { precision: NewtonSchulzPrecision; runs: string }[];

/** The matrices the fused Muon and Dion2 steps handle apart: tall, wide, a conv kernel (a 36×8 matrix) and square. */
export const MATRIX_SHAPES = { tall: [96, 32], wide: [32, 96], conv: [3, 3, 4, 8], square: [48, 48] } as const;

/**
 * The conv kernel is one by declaration (seededVariables names it '…/conv'): muon() and dion2() on
 * bare variables have no layer class to tell, and the fused step flattens it as the composition does.
 */
export const CONV_VIEWS = [{ name: '/conv', convKernel: true }] as const;
