import type * as tf from '@tensorflow/tfjs-core';
import { checkNewtonSchulzInput, plainNewtonSchulz } from './newtonSchulz.js';
import { type NewtonSchulzSchedule, checkResolvedSchedule } from './newtonSchulzSchedule.js';

/**
 * The kernel seam of Muon: orthogonalizes every matrix of one optimizer step in a single call, so
 * that a kernel can batch same-shape matrices, reuse buffers or leave TF.js for native code.
 * It receives the schedule resolved once (`resolveNewtonSchulz`), and plans each shape with
 * `orthogonalizationPlanner` under its own capabilities; it never re-resolves the options.
 * Each output must have its input's shape and approximate the same map as `newtonSchulz`
 * with the same schedule (an orthogonality error no worse than the plain iteration's, in float32;
 * within bfloat16's round-off of it where the kernel runs `schedule.precision: 'bfloat16'`).
 */
export type Orthogonalizer = (matrices: readonly tf.Tensor2D[], schedule: NewtonSchulzSchedule) => tf.Tensor2D[];

/**
 * The reference kernel: plain Newton–Schulz on each matrix in turn, on its smaller Gram side, in
 * float32 whatever `schedule.precision` asks (it is the float32 map bfloat16 is measured against).
 */
export const newtonSchulzEach: Orthogonalizer = (matrices, schedule) => {
  checkResolvedSchedule(schedule, 'newtonSchulzEach');
  return matrices.map((g) => {
    checkNewtonSchulzInput(g, 'newtonSchulzEach');
    return plainNewtonSchulz(g, schedule, (g.shape[0] as number) > (g.shape[1] as number));
  });
};
