import type * as tf from '@tensorflow/tfjs-core';

/**
 * The indices of `matrices` grouped by shape, groups in order of first appearance and indices in
 * order within each: what a kernel that batches same-shape matrices runs as one batch each.
 */
export function sameShapeGroups(matrices: readonly tf.Tensor2D[]): number[][] {
  const groups = new Map<string, number[]>();
  matrices.forEach((g, i) => {
    const key = g.shape.join('x');
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [i]);
    else group.push(i);
  });
  return [...groups.values()];
}
