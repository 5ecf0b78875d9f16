import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { fromSliceView, gatherRows, largestL1Rows, scaleRows, scatterRows, selectedCount, selectedSide, sliceView } from './submatrixSelection.js';

describe('Dion2 submatrix selection: which side, how many', () => {
  it('selects the shorter side of [fanIn, fanOut], the output neurons (columns) on a tie, as dion2.py on (out, in)', () => {
    // The 784-512-512-10 MLP: [784, 512] (fanOut shorter) and [512, 512] (a tie) select columns,
    // i.e. PyTorch rows of the (512, 784) and (512, 512) weights; [512, 10] selects its 10 columns.
    expect(selectedSide({ fanIn: 784, fanOut: 512 })).toBe('columns');
    expect(selectedSide({ fanIn: 512, fanOut: 512 })).toBe('columns');
    expect(selectedSide({ fanIn: 512, fanOut: 10 })).toBe('columns');
    // An embedding-like [10, 512] (fanIn shorter) selects its 10 rows.
    expect(selectedSide({ fanIn: 10, fanOut: 512 })).toBe('rows');
  });

  it('keeps k = max(1, ⌈α·n⌉) of n slices, never more than n', () => {
    expect(selectedCount(512, 0.25)).toBe(128);
    expect(selectedCount(3, 0.5)).toBe(2); // ⌈1.5⌉
    expect(selectedCount(10, 0.01)).toBe(1); // ⌈0.1⌉; and never 0 while there is a slice
    expect(selectedCount(7, 1)).toBe(7);
    expect(selectedCount(0, 0.5)).toBe(0); // an empty side has nothing to select
  });
});

describe.each(TEST_BACKENDS)('Dion2 submatrix selection on %s: gather, scatter, scale', (backend) => {
  beforeAll(() => useBackend(backend));

  // Rows' L1 norms: 3, 4, 1.5, 4 (rows 1 and 3 tie).
  const view = (): tf.Tensor2D => tf.tensor2d([[1, 0, -2, 0], [0, 3, 0, -1], [0.5, -0.5, 0, 0.5], [2, 2, 0, 0]]);

  it('takes the rows of largest L1 norm, not L2, with equal norms in increasing row order', () => {
    // Where the norms disagree: row 0 = [3, 0, 0, 0] (L1 3, L2 3), row 1 = [1, 1, 1, 1] (L1 4, L2 2).
    const disagree = tf.tensor2d([[3, 0, 0, 0], [1, 1, 1, 1], [0, 0, 0, 0.5]]);
    expect(Array.from(largestL1Rows(disagree, 1).dataSync())).toEqual([1]);
    // Rows 1 and 3 tie at 4: both beat row 0's 3; with k = 2 the tie is the whole selection,
    // with k = 3 row 0 follows; tfjs's topk takes equal norms in increasing index.
    expect(Array.from(largestL1Rows(view(), 2).dataSync())).toEqual([1, 3]);
    expect(Array.from(largestL1Rows(view(), 3).dataSync())).toEqual([1, 3, 0]);
    expect(largestL1Rows(view(), 0).shape).toEqual([0]);
  });

  it('gathers the selected rows, scatters them back with zeros elsewhere, and scales only them', () => {
    const indices = tf.tensor1d([2, 0], 'int32');
    expect(gatherRows(view(), indices).arraySync()).toEqual([[0.5, -0.5, 0, 0.5], [1, 0, -2, 0]]);
    expect(scatterRows(tf.tensor2d([[7, 7, 7, 7], [9, 9, 9, 9]]), indices, 4).arraySync()).toEqual([[9, 9, 9, 9], [0, 0, 0, 0], [7, 7, 7, 7], [0, 0, 0, 0]]);
    expect(scaleRows(view(), indices, 0.5).arraySync()).toEqual([[0.5, 0, -1, 0], [0, 3, 0, -1], [0.25, -0.25, 0, 0.25], [2, 2, 0, 0]]);
  });

  it('the slice view of a column selection is the transpose, and back', () => {
    const m = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
    expect(sliceView(m, 'rows')).toBe(m);
    expect(sliceView(m, 'columns').arraySync()).toEqual([[1, 4], [2, 5], [3, 6]]);
    expect(fromSliceView(sliceView(m, 'columns'), 'columns').arraySync()).toEqual(m.arraySync());
  });
});
