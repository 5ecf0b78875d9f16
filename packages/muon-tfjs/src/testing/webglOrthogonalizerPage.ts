/**
 * The browser half of kernels/webglOrthogonalizer.test.ts (WebGL exists only in a browser): bundled
 * with esbuild and run in headless Chromium on SwiftShader. `globalThis.runWebglOrthogonalizer`
 * orthogonalizes the given float32 matrices on the webgl backend with the WebGL kernel and with
 * the TF.js reference kernel (`newtonSchulzEach`), and returns both outputs and the renderer.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-webgl';
import { type CoefficientPreset } from '../math/coefficients.js';
import { resolveNewtonSchulz } from '../math/newtonSchulzSchedule.js';
import { newtonSchulzEach } from '../math/orthogonalizer.js';
import { webglOrthogonalizer } from '../kernels/webglOrthogonalizer.js';

/** One matrix, row-major. */
export interface PageMatrix {
  readonly rows: number;
  readonly cols: number;
  readonly values: number[];
}

export interface WebglKernelResult {
  readonly backend: string;
  readonly webgl: number[][];
  readonly tfjs: number[][];
  /** Tensors left over after both kernels ran and their outputs were read and disposed. */
  readonly leaked: number;
}

async function runWebglOrthogonalizer(matrices: PageMatrix[], coefficients: CoefficientPreset): Promise<WebglKernelResult> {
  if (!(await tf.setBackend('webgl'))) throw new Error("tf.setBackend('webgl') failed");
  // Full float32 textures: the comparison is of float32 round-off, not of half-float storage.
  tf.env().set('WEBGL_FORCE_F16_TEXTURES', false);
  const schedule = resolveNewtonSchulz({ coefficients });
  const inputs = matrices.map((m) => tf.tensor2d(m.values, [m.rows, m.cols]));
  const before = tf.memory().numTensors;
  const read = async (outputs: tf.Tensor2D[]): Promise<number[][]> => {
    const values = await Promise.all(outputs.map(async (o) => Array.from(await o.data())));
    tf.dispose(outputs);
    return values;
  };
  const webgl = await read(webglOrthogonalizer()(inputs, schedule));
  const tfjs = await read(newtonSchulzEach(inputs, schedule));
  const leaked = tf.memory().numTensors - before;
  tf.dispose(inputs);
  return { backend: tf.getBackend(), webgl, tfjs, leaked };
}

(globalThis as unknown as { runWebglOrthogonalizer: typeof runWebglOrthogonalizer }).runWebglOrthogonalizer = runWebglOrthogonalizer;
