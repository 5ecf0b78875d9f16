import * as tf from '@tensorflow/tfjs-core';
import { type Bfloat16Codec, checkPackInput, checkUnpackInput, packedLength } from '../math/bfloat16Storage.js';
import { type WebGpuProgram, webgpuProgramRunner } from './webgpuPrograms.js';

/**
 * bfloat16 storage on webgpu (issue 24, item 5): the host codec of src/math/bfloat16Storage.ts as
 * three WGSL programs run by TF.js's webgpu backend, so that a step packs, unpacks and checks the
 * momentum where it lives, with no read-back. The layout is the host codec's (element 2k in the
 * low 16 bits of word k, 2k+1 in the high 16 bits, an odd size's last high half +0) and the
 * rounding its integer formula (`roundToBfloat16Bits`), on the float32 bits `bitcast<u32>` gives:
 * WGSL's u32 addition wraps as the host's `>>> 16` does, so both give the same bits for every
 * input (the WGSL test checks them against each other, NaN, subnormals and ties included).
 * The backend binds an int32 tensor as `array<i32>` and a float32 one as `array<f32>`.
 */

/** Threads of a workgroup: one word (pack, finiteness) or one value (unpack) each. */
const WORKGROUP = 64;

/** The host codec's rounding, `roundToBfloat16Bits`, in WGSL. */
const ROUND_TO_BFLOAT16 = `
  fn bfloat16Bits(v : f32) -> u32 {
    let u = bitcast<u32>(v);
    // NaN: sign and payload's top, the quiet bit forced so that it stays NaN.
    if ((u & 0x7fffffffu) > 0x7f800000u) {
      return ((u >> 16u) | 0x40u) & 0xffffu;
    }
    // Nearest, ties to even; a carry into the exponent is the right result (next binade, or Inf).
    return ((u + 0x7fffu + ((u >> 16u) & 1u)) >> 16u) & 0xffffu;
  }
`;

/** A one-dimensional program over `size` outputs of flat `inputs`, one thread each; `main(index)` gets the flat index. */
class ElementwiseProgram implements WebGpuProgram {
  readonly variableNames: string[];
  readonly outputShape: number[];
  shaderKey: string;
  readonly dispatchLayout = { x: [0] };
  dispatch: [number, number, number];
  readonly workgroupSize: [number, number, number] = [WORKGROUP, 1, 1];

  constructor(
    name: string,
    inputs: readonly string[],
    size: number,
    private readonly code: string,
  ) {
    this.variableNames = [...inputs];
    this.outputShape = [size];
    // The backend splits a dispatch wider than the device allows into y and z (reshapeDispatch).
    this.dispatch = [Math.ceil(size / WORKGROUP), 1, 1];
    this.shaderKey = name;
  }

  getUserCode(): string {
    return this.code;
  }
}

/** float32 values X, flat → int32 words: two bfloat16 per word. */
const PACK = `
  ${ROUND_TO_BFLOAT16}
  fn main(index : i32) {
    if (index < uniforms.outShape) {
      let low = bfloat16Bits(X[2 * index]);
      var high = 0u;
      if (2 * index + 1 < uniforms.xShape) {
        high = bfloat16Bits(X[2 * index + 1]);
      }
      result[index] = bitcast<i32>(low | (high << 16u));
    }
  }
`;

/** int32 words P → float32 values: a bfloat16 is the top half of its float32. */
const UNPACK = `
  fn main(index : i32) {
    if (index < uniforms.outShape) {
      let word = bitcast<u32>(P[index / 2]);
      result[index] = bitcast<f32>(select(word & 0xffff0000u, word << 16u, index % 2 == 0));
    }
  }
`;

/**
 * int32 words P → 1 where both halves are finite, else 0 (bool). Bitwise, on the words' bits:
 * TF.js's webgpu kernels compute int32 ops in float32, which does not hold a 32-bit word exactly,
 * so the host codec's `packedBfloat16FiniteOnDevice` would misread some words there.
 */
const FINITE = `
  fn main(index : i32) {
    if (index < uniforms.outShape) {
      let word = bitcast<u32>(P[index]);
      let finite = (word & 0x7f80u) != 0x7f80u && (word & 0x7f800000u) != 0x7f800000u;
      result[index] = select(0, 1, finite);
    }
  }
`;

/** `C` (a bool scalar) ? `A` : `B`, word for word: int32 A and B of one shape, flat. */
const SELECT = `
  fn main(index : i32) {
    if (index < uniforms.outShape) {
      result[index] = select(B[index], A[index], C[0] != 0);
    }
  }
`;

/** Runs `program` on `inputs` and returns its output as a tensor of the current scope. */
function run(program: WebGpuProgram, inputs: tf.Tensor | tf.Tensor[], dtype: 'float32' | 'int32' | 'bool', caller: string): tf.Tensor {
  const runner = webgpuProgramRunner(caller);
  return tf.engine().makeTensorFromTensorInfo(runner.runWebGPUProgram(program, Array.isArray(inputs) ? inputs : [inputs], dtype));
}

/**
 * `ok ? a : b` for int32 tensors of one shape on webgpu, exact: TF.js's `where` there reads int32
 * values as float32, which rounds words above 2^24 (a packed bfloat16 pair loses its low half's
 * last bits). The device step guard writes int32 slots through it.
 */
export function selectInt32OnWebGpu(ok: tf.Tensor, a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  if (a.dtype !== 'int32' || b.dtype !== 'int32' || !tf.util.arraysEqual(a.shape, b.shape) || ok.size !== 1) {
    throw new Error(`selectInt32OnWebGpu: expects a scalar condition and two int32 tensors of one shape, got ${a.dtype} [${a.shape.join(', ')}] and ${b.dtype} [${b.shape.join(', ')}]`);
  }
  return tf.tidy(() => {
    const program = new ElementwiseProgram('muonSelectInt32', ['C', 'A', 'B'], a.size, SELECT);
    const flat = run(program, [tf.cast(tf.reshape(ok, [1]), 'bool'), tf.reshape(a, [a.size]), tf.reshape(b, [b.size])], 'int32', 'selectInt32OnWebGpu');
    return tf.reshape(flat, a.shape);
  });
}

/**
 * The bfloat16 codec of the webgpu backend: the same bits as the host codec, computed by WGSL
 * programs on the GPU (one dispatch each), so that no step reads the momentum back.
 */
export const WEBGPU_BFLOAT16_CODEC: Bfloat16Codec = Object.freeze({
  pack(values: tf.Tensor): tf.Tensor1D {
    checkPackInput(values, 'packBfloat16 (WGSL)');
    return tf.tidy(() => {
      const flat = tf.reshape(values, [values.size]);
      return run(new ElementwiseProgram('muonPackBfloat16', ['X'], packedLength(values.size), PACK), flat, 'int32', 'packBfloat16 (WGSL)') as tf.Tensor1D;
    });
  },
  unpack(packed: tf.Tensor, shape: readonly number[]): tf.Tensor {
    checkUnpackInput(packed, shape, 'unpackBfloat16 (WGSL)');
    return tf.tidy(() => {
      const size = tf.util.sizeFromShape([...shape]);
      return tf.reshape(run(new ElementwiseProgram('muonUnpackBfloat16', ['P'], size, UNPACK), packed, 'float32', 'unpackBfloat16 (WGSL)'), [...shape]);
    });
  },
  finiteOnDevice(packed: tf.Tensor): tf.Tensor {
    if (packed.size === 0) return tf.scalar(true, 'bool');
    return tf.tidy(() => tf.all(run(new ElementwiseProgram('muonPackedBfloat16Finite', ['P'], packed.size, FINITE), tf.cast(packed, 'int32'), 'bool', 'packedBfloat16Finite (WGSL)')));
  },
});
