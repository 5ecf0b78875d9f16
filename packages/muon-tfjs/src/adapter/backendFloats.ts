import { smallestUsableConstant } from '../kernels/backendFloatPrecision.js';
import type { Stabilizer } from '../transforms/gradientTransformation.js';

/** What the precision check needs to know of a TF.js backend. */
export interface BackendFloats {
  readonly name: string;
  /** Bits of the floats the backend stores: 16 on WebGL without float32 render targets. */
  readonly floatPrecision: 16 | 32;
}

/**
 * The stabilizers that vanish on `backend`. Only 16-bit backends lose any: AdamW's 1e-8 or
 * NorMuon's 1e-10 is stored as 0 there (or as a subnormal that GPUs flush to 0), and a zero input
 * then gives 0/0 — or a tiny second moment, itself flushed to 0, gives m/0 = ±Inf. The threshold
 * is {@link smallestUsableConstant}. At 32 bits every positive finite stabilizer the options accept
 * is kept.
 */
export function unrepresentableStabilizers(stabilizers: readonly Stabilizer[], backend: BackendFloats): Stabilizer[] {
  if (backend.floatPrecision !== 16) return [];
  const smallest = smallestUsableConstant(16);
  return stabilizers.filter((s) => s.value < smallest);
}

/**
 * Refuses to step on a backend where a stabilizer vanishes, naming the option, its value, the
 * backend and the smallest value that works there. The library does not raise the value itself:
 * ε = 1e-4 and ε = 1e-8 give different updates wherever √v is small, which is the user's choice.
 */
export function assertStabilizersRepresentable(stabilizers: readonly Stabilizer[], backend: BackendFloats, owner: string): void {
  const lost = unrepresentableStabilizers(stabilizers, backend);
  if (lost.length === 0) return;
  const smallest = String(smallestUsableConstant(backend.floatPrecision));
  const listed = lost.map((s) => `${s.option} = ${String(s.value)}${s.group === undefined ? '' : ` (group '${s.group}')`}`).join(', ');
  throw new Error(
    `${owner}: ${listed} cannot be stored by backend '${backend.name}', which keeps 16-bit floats (its smallest usable constant is ${smallest}): ` +
      `the value would become 0 and a zero or tiny gradient would write NaN or Inf. Set ${lost.length === 1 ? 'it' : 'them'} ≥ ${smallest} for this backend, ` +
      'or run where float32 textures are available (WEBGL_RENDER_FLOAT32_ENABLED). Nothing was updated.',
  );
}
