import * as tf from '@tensorflow/tfjs-core';
import { type Bfloat16Codecs, HOST_BFLOAT16_CODECS, packedBfloat16Finite, packedBfloat16FiniteOnDevice } from '../math/bfloat16Storage.js';
import { type GradientTransformation, type SlotEncoding, type SlotMap, entry } from './gradientTransformation.js';

/**
 * The encoding of a slot stored by {@link storeInBfloat16}: bfloat16, two per int32 word, checked
 * on the device with the host codec's int32 ops (exact on cpu and wasm); {@link storeInBfloat16}
 * replaces `finiteOnDevice` with its codec's, which on webgpu checks the bits in WGSL.
 */
export const BFLOAT16_PACKED: SlotEncoding = Object.freeze({
  format: 'bfloat16, two per int32',
  dtype: 'int32',
  finite: (stored: tf.TypedArray) => packedBfloat16Finite(stored instanceof Int32Array ? stored : Int32Array.from(stored)),
  finiteOnDevice: packedBfloat16FiniteOnDevice,
});

/**
 * Stores `inner`'s float32 slot `slot` in bfloat16 (optax's `mu_dtype`), under the name `stored`:
 * an int32 tensor of `ceil(size / 2)` words, two bfloat16 values each (`packBfloat16`), half the
 * bytes. Each step unpacks it (exactly) into the float32 slot `inner` reads, and packs what
 * `inner` returns, rounded to nearest even; the step's own update uses the float32 value before
 * that rounding, as optax casts `mu` only when it stores it. `inner` is unchanged, so any
 * composition (column blocks, matrix views) sees its slot in the parameter's shape.
 *
 * The stored slot has a name of its own so that a checkpoint of one format never binds to an
 * optimizer of the other: the adapter refuses it, naming the variable and both slots. Refusing
 * rather than converting: bfloat16 → float32 would be exact, but float32 → bfloat16 rounds, and a
 * mismatch means the checkpoint was saved with other options than the optimizer's (`momentumDtype`
 * is saved in the config, so a model saved with its optimizer rebuilds the same format).
 *
 * `codecs` gives the codec of the current backend, asked at each call (the backend may change
 * after the optimizer is built): the adapter supplies the host codec on cpu and wasm and the WGSL
 * one on webgpu (`OptimizerServices.bfloat16Codec`); the default is the host codec, which refuses
 * other backends. Where the codec refuses, the first `init` throws, naming the backend, before the
 * adapter writes anything; `owner` starts its errors (Muon's names the option).
 */
export function storeInBfloat16(slot: string, stored: string, inner: GradientTransformation, owner: string, codecs: Bfloat16Codecs = HOST_BFLOAT16_CODECS): GradientTransformation {
  const refused = (error: unknown): Error => new Error(`${owner}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  const codec = () => codecs(tf.getBackend());
  const encoding: SlotEncoding = Object.freeze({ ...BFLOAT16_PACKED, finiteOnDevice: (packed: tf.Tensor) => codec().finiteOnDevice(packed) });
  return {
    ...inner,
    encodedSlots: { ...inner.encodedSlots, [stored]: encoding },
    init(name, param) {
      const { [slot]: value, ...rest } = inner.init(name, param);
      if (value === undefined) throw new Error(`Internal error: ${owner} keeps no '${slot}' slot for '${name}' to store in bfloat16`);
      try {
        return { ...rest, [stored]: codec().pack(value) };
      } catch (error) {
        tf.dispose(Object.values(rest));
        throw refused(error);
      } finally {
        value.dispose();
      }
    },
    update(grads, state, params, context) {
      const decoded: Record<string, SlotMap> = {};
      try {
        for (const name of Object.keys(grads)) {
          const { [stored]: packed, ...rest } = entry(state, name, 'state');
          if (packed === undefined) throw new Error(`variable '${name}' has no '${stored}' slot`);
          decoded[name] = { ...rest, [slot]: codec().unpack(packed, entry(params, name, 'parameter').shape) };
        }
      } catch (error) {
        tf.dispose(Object.values(decoded).map((slots) => slots[slot] as tf.Tensor));
        throw refused(error);
      }
      const result = inner.update(grads, decoded, params, context);
      const newState: Record<string, SlotMap> = {};
      for (const [name, slots] of Object.entries(result.state)) {
        const { [slot]: value, ...rest } = slots;
        newState[name] = value === undefined ? slots : { ...rest, [stored]: codec().pack(value) };
        value?.dispose();
      }
      tf.dispose(Object.values(decoded).map((slots) => slots[slot] as tf.Tensor));
      return { updates: result.updates, state: newState };
    },
  };
}
