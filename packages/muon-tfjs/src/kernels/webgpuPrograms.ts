import * as tf from '@tensorflow/tfjs-core';

/**
 * The WGSL compute programs of the WebGPU Newton–Schulz kernel, run through TF.js's own webgpu
 * backend (`@tensorflow/tfjs-backend-webgpu`), reached structurally: the library does not import
 * that package, so users of other backends need not install it. The two interfaces below are the
 * parts of its `WebGPUProgram` and `WebGPUBackend` (4.22, `dist/webgpu_program.d.ts`,
 * `dist/backend_webgpu.d.ts`) that these programs use. The backend prepends to `getUserCode()` the
 * buffer bindings (`result`, then one `array<f32>` per name in `variableNames`), a uniform struct
 * `uniforms` with each input's shape (`<name>Shape`), the output's (`outShape`) and the fields of
 * `uniforms`, and the builtins `localIndex`, `localId` and `workgroupId`.
 */
export interface WebGpuProgram {
  readonly variableNames: string[];
  readonly outputShape: number[];
  /** Names the compiled pipeline: equal keys must mean equal WGSL (the backend adds shapes' ranks and dtypes). */
  shaderKey: string;
  readonly dispatchLayout: { x: number[]; y?: number[]; z?: number[] };
  /** Workgroups along x, y, z. */
  dispatch: [number, number, number];
  readonly workgroupSize: [number, number, number];
  /** Fields appended to the uniform struct, e.g. `alpha : f32,`; their values are passed per run. */
  readonly uniforms?: string;
  getUserCode(): string;
}

/** One value of a program's own uniforms, in the order of {@link WebGpuProgram.uniforms}. */
export interface WebGpuUniform {
  readonly type: 'float32' | 'int32' | 'uint32';
  readonly data: number[];
}

/** The part of TF.js's webgpu backend that runs a program. */
export interface WebGpuProgramRunner {
  runWebGPUProgram(program: WebGpuProgram, inputs: tf.TensorInfo[], outputDtype: 'float32' | 'int32' | 'bool', uniforms?: WebGpuUniform[]): tf.TensorInfo;
}

/** The current TF.js backend as a program runner; throws, naming `caller`, unless it is webgpu. */
export function webgpuProgramRunner(caller: string): WebGpuProgramRunner {
  const backend = tf.backend() as Partial<WebGpuProgramRunner>;
  if (tf.getBackend() !== 'webgpu' || typeof backend.runWebGPUProgram !== 'function') {
    throw new Error(`${caller} runs on the webgpu backend; the current one is '${tf.getBackend()}'`);
  }
  return backend as WebGpuProgramRunner;
}

/** Runs `program` on the float32 `inputs` and returns its output as a tensor of the current scope. */
function run<R extends tf.Rank>(runner: WebGpuProgramRunner, program: WebGpuProgram, inputs: tf.Tensor[], uniforms: WebGpuUniform[]): tf.Tensor<R> {
  return tf.engine().makeTensorFromTensorInfo(runner.runWebGPUProgram(program, inputs, 'float32', uniforms)) as tf.Tensor<R>;
}

/** Output tile of one workgroup: 64×64, each of its 16×16 threads computing a 4×4 block. */
const TILE = 64;
const THREADS_PER_SIDE = 16;
const PER_THREAD = TILE / THREADS_PER_SIDE;
/** Depth of the operand tiles held in workgroup memory: 2 · 64 · 16 floats, 8 KiB of the 16 KiB WebGPU guarantees. */
const TILE_DEPTH = 16;
const THREADS = THREADS_PER_SIDE * THREADS_PER_SIDE;

/** What a {@link fusedProduct} computes, besides its operands. */
export interface FusedProductTerms {
  /** Multiplies the product. Default 1. */
  readonly alpha?: number;
  /** Added after scaling: `beta` times this tensor of the output's shape. */
  readonly addend?: { readonly beta: number; readonly tensor: tf.Tensor3D };
  /** Added to the diagonal (the `a·I` of the Gram iteration's Z). Default 0. */
  readonly diagonal?: number;
  /** The left operand is stored transposed, `[batch, depth, rows]`. */
  readonly transposeLeft?: boolean;
  /** The right operand is stored transposed, `[batch, cols, depth]`. */
  readonly transposeRight?: boolean;
  /**
   * Round each operand to IEEE binary16 before it is multiplied (accumulation stays float32), with
   * WGSL's core `pack2x16float`: the arithmetic of half-precision products, without `shader-f16`.
   */
  readonly halfOperands?: boolean;
}

/**
 * The one product program of the kernel, with Newton–Schulz's scale-and-add folded into its epilogue:
 * `out[b] = alpha · op(L[b]) · op(R[b]) + beta · C[b] + diagonal · I` for every matrix b of a batch,
 * `op` transposing where asked. One dispatch computes the whole batch (workgroup z = batch index).
 * Tiled through workgroup memory: each workgroup loads 64×16 slabs of both operands per step of
 * the depth loop, so each operand entry is read from global memory once per 64 outputs, not once
 * per output. Threads own strided rows and columns (`ly + 16r`, `lx + 16c`), so neighbouring
 * threads read neighbouring words of workgroup memory and write neighbouring outputs.
 */
class FusedProductProgram implements WebGpuProgram {
  readonly variableNames: string[];
  readonly outputShape: number[];
  shaderKey: string;
  readonly dispatchLayout = { x: [2], y: [1], z: [0] };
  dispatch: [number, number, number];
  readonly workgroupSize: [number, number, number] = [THREADS_PER_SIDE, THREADS_PER_SIDE, 1];
  readonly uniforms = 'alpha : f32, beta : f32, diagonal : f32,';

  constructor(
    batch: number,
    rows: number,
    cols: number,
    private readonly transposeLeft: boolean,
    private readonly transposeRight: boolean,
    private readonly withAddend: boolean,
    private readonly halfOperands: boolean,
  ) {
    this.variableNames = withAddend ? ['L', 'R', 'C'] : ['L', 'R'];
    this.outputShape = [batch, rows, cols];
    this.dispatch = [Math.ceil(cols / TILE), Math.ceil(rows / TILE), batch];
    this.shaderKey = `muonFusedProduct_${transposeLeft ? 'T' : 'N'}${transposeRight ? 'T' : 'N'}_${withAddend ? 'add' : 'noadd'}_${halfOperands ? 'f16' : 'f32'}`;
  }

  getUserCode(): string {
    // Operand loads: consecutive threads take consecutive addresses of the stored layout (coalesced).
    const loadLeft = this.transposeLeft
      ? `let k = e / ${TILE}; let i = e % ${TILE}; let gi = row0 + i; let gk = k0 + k;
         leftTile[k][i] = select(0.0, operand(L[base(uniforms.lShape) + gk * rows + gi]), gi < rows && gk < depth);`
      : `let i = e / ${TILE_DEPTH}; let k = e % ${TILE_DEPTH}; let gi = row0 + i; let gk = k0 + k;
         leftTile[k][i] = select(0.0, operand(L[base(uniforms.lShape) + gi * depth + gk]), gi < rows && gk < depth);`;
    const loadRight = this.transposeRight
      ? `let j = e / ${TILE_DEPTH}; let k = e % ${TILE_DEPTH}; let gj = col0 + j; let gk = k0 + k;
         rightTile[k][j] = select(0.0, operand(R[base(uniforms.rShape) + gj * depth + gk]), gj < cols && gk < depth);`
      : `let k = e / ${TILE}; let j = e % ${TILE}; let gj = col0 + j; let gk = k0 + k;
         rightTile[k][j] = select(0.0, operand(R[base(uniforms.rShape) + gk * cols + gj]), gj < cols && gk < depth);`;
    const addend = this.withAddend ? 'value = value + uniforms.beta * C[index];' : '';
    // WGSL's select() evaluates both arms, so the guarded index may be out of range: the backend
    // binds storage buffers with robust access (clamped reads), and the value read is discarded.
    return `
      var<workgroup> leftTile : array<array<f32, ${TILE}>, ${TILE_DEPTH}>;
      var<workgroup> rightTile : array<array<f32, ${TILE}>, ${TILE_DEPTH}>;

      fn operand(v : f32) -> f32 {
        ${this.halfOperands ? 'return unpack2x16float(pack2x16float(vec2<f32>(v, 0.0))).x;' : 'return v;'}
      }

      fn base(shape : vec3<i32>) -> i32 {
        return i32(workgroupId.z) * shape.y * shape.z;
      }

      fn main() {
        let rows = uniforms.outShape.y;
        let cols = uniforms.outShape.z;
        let depth = ${this.transposeLeft ? 'uniforms.lShape.y' : 'uniforms.lShape.z'};
        let row0 = i32(workgroupId.y) * ${TILE};
        let col0 = i32(workgroupId.x) * ${TILE};
        let lx = i32(localId.x);
        let ly = i32(localId.y);
        var acc : array<array<f32, ${PER_THREAD}>, ${PER_THREAD}>;
        for (var k0 = 0; k0 < depth; k0 = k0 + ${TILE_DEPTH}) {
          for (var load = 0; load < ${(TILE * TILE_DEPTH) / THREADS}; load = load + 1) {
            let e = i32(localIndex) + load * ${THREADS};
            ${loadLeft}
          }
          for (var load = 0; load < ${(TILE * TILE_DEPTH) / THREADS}; load = load + 1) {
            let e = i32(localIndex) + load * ${THREADS};
            ${loadRight}
          }
          workgroupBarrier();
          for (var k = 0; k < ${TILE_DEPTH}; k = k + 1) {
            var right : array<f32, ${PER_THREAD}>;
            for (var c = 0; c < ${PER_THREAD}; c = c + 1) {
              right[c] = rightTile[k][lx + c * ${THREADS_PER_SIDE}];
            }
            for (var r = 0; r < ${PER_THREAD}; r = r + 1) {
              let left = leftTile[k][ly + r * ${THREADS_PER_SIDE}];
              for (var c = 0; c < ${PER_THREAD}; c = c + 1) {
                acc[r][c] = fma(left, right[c], acc[r][c]);
              }
            }
          }
          workgroupBarrier();
        }
        for (var r = 0; r < ${PER_THREAD}; r = r + 1) {
          let i = row0 + ly + r * ${THREADS_PER_SIDE};
          for (var c = 0; c < ${PER_THREAD}; c = c + 1) {
            let j = col0 + lx + c * ${THREADS_PER_SIDE};
            if (i < rows && j < cols) {
              let index = i32(workgroupId.z) * rows * cols + i * cols + j;
              var value = uniforms.alpha * acc[r][c];
              ${addend}
              if (i == j) {
                value = value + uniforms.diagonal;
              }
              result[index] = value;
            }
          }
        }
      }
    `;
  }
}

/**
 * `alpha · op(left) · op(right) + beta · addend + diagonal · I` per matrix of a batch, in one
 * dispatch of {@link FusedProductProgram} on the webgpu backend.
 */
export function fusedProduct(runner: WebGpuProgramRunner, left: tf.Tensor3D, right: tf.Tensor3D, terms: FusedProductTerms = {}): tf.Tensor3D {
  const [batch, leftRows, leftCols] = left.shape;
  const [, rightRows, rightCols] = right.shape;
  const transposeLeft = terms.transposeLeft ?? false;
  const transposeRight = terms.transposeRight ?? false;
  const rows = transposeLeft ? leftCols : leftRows;
  const cols = transposeRight ? rightRows : rightCols;
  const program = new FusedProductProgram(batch, rows, cols, transposeLeft, transposeRight, terms.addend !== undefined, terms.halfOperands ?? false);
  const inputs = terms.addend === undefined ? [left, right] : [left, right, terms.addend.tensor];
  const uniforms: WebGpuUniform[] = [terms.alpha ?? 1, terms.addend?.beta ?? 0, terms.diagonal ?? 0].map((value) => ({ type: 'float32', data: [value] }));
  return run(runner, program, inputs, uniforms);
}

/**
 * X / (c·‖X‖_F + eps) per matrix of a batch, in the overflow-safe form of `normalizeFrobenius`
 * (src/math/newtonSchulz.ts): with s = max|x_ij|, (X/s)/(c·‖X/s‖_F + eps/s), an all-zero X divided
 * by eps. One workgroup per matrix; each thread keeps a running (peak, Σ(x/peak)²) pair, updated
 * as LAPACK's `snrm2` rescales its sum of squares when a larger entry arrives, so one pass gives
 * both s and ‖X/s‖_F; a tree reduction in workgroup memory combines the threads' pairs, and a
 * second pass writes the scaled matrix.
 */
class FrobeniusNormalizationProgram implements WebGpuProgram {
  readonly variableNames = ['X'];
  readonly outputShape: number[];
  shaderKey = 'muonFrobeniusNormalization';
  readonly dispatchLayout = { x: [2], y: [1], z: [0] };
  dispatch: [number, number, number];
  readonly workgroupSize: [number, number, number] = [THREADS, 1, 1];
  readonly uniforms = 'normalizationScale : f32, eps : f32,';

  constructor(shape: readonly [number, number, number]) {
    this.outputShape = [...shape];
    this.dispatch = [1, 1, shape[0]];
  }

  getUserCode(): string {
    return `
      var<workgroup> peaks : array<f32, ${THREADS}>;
      var<workgroup> sums : array<f32, ${THREADS}>;

      fn main() {
        let size = uniforms.xShape.y * uniforms.xShape.z;
        let start = i32(workgroupId.z) * size;
        let me = i32(localIndex);
        var peak = 0.0;
        var sum = 0.0;
        for (var e = me; e < size; e = e + ${THREADS}) {
          let v = abs(X[start + e]);
          if (v > peak) {
            sum = 1.0 + sum * (peak / v) * (peak / v);
            peak = v;
          } else if (v > 0.0) {
            sum = sum + (v / peak) * (v / peak);
          }
        }
        peaks[me] = peak;
        sums[me] = sum;
        workgroupBarrier();
        for (var stride = ${THREADS / 2}; stride > 0; stride = stride / 2) {
          if (me < stride) {
            let p = max(peaks[me], peaks[me + stride]);
            if (p > 0.0) {
              let a = peaks[me] / p;
              let b = peaks[me + stride] / p;
              sums[me] = sums[me] * a * a + sums[me + stride] * b * b;
            }
            peaks[me] = p;
          }
          workgroupBarrier();
        }
        let peakAll = peaks[0];
        let scale = select(1.0, peakAll, peakAll > 0.0);
        let denominator = uniforms.normalizationScale * sqrt(sums[0]) + uniforms.eps / scale;
        for (var e = me; e < size; e = e + ${THREADS}) {
          result[start + e] = (X[start + e] / scale) / denominator;
        }
      }
    `;
  }
}

/** X / (c·‖X‖_F + eps) per matrix of a batch `[batch, rows, cols]`, in one dispatch. */
export function normalizeFrobeniusOnGpu(runner: WebGpuProgramRunner, x: tf.Tensor3D, normalizationScale: number, eps: number): tf.Tensor3D {
  const uniforms: WebGpuUniform[] = [normalizationScale, eps].map((value) => ({ type: 'float32', data: [value] }));
  return run(runner, new FrobeniusNormalizationProgram(x.shape), [x], uniforms);
}
