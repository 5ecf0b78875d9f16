import { type ConvOrthogonalization, perTapView } from '../math/convTaps.js';
import { type MatrixView, batchedMatrixShape, matrixShape } from '../math/matrixView.js';

/**
 * A rule of the `matrixViews` option of Muon and NorMuon: how a weight whose name contains `name`
 * is seen as matrices. Either its axes, as optax's `MuonDimensionNumbers` — `reductionAxes` (the
 * rows, contracted with the input) and `outputAxes` (the columns), every other axis a batch axis
 * along which the weight holds independent matrices, each orthogonalized and shape-scaled on its
 * own; with `reshape`, the axes of the shape the weight is first seen as (an axis split, e.g. the
 * rows of an output projection into heads) — or `convKernel: true`, a convolution kernel `[...spatial, in, out]`, seen as the option
 * `convOrthogonalization` says. Serializable (a string, numbers, a boolean), so it is saved with
 * the optimizer's config; the substring sits under a `name` key because tfjs-layers camel-cases
 * every other string of a saved config.
 *
 * Only convolution kernels are flattened without a rule, and only where the layer class says so
 * (a hybrid built from a model); any other weight of rank ≥ 3 is refused without one, rather than
 * flattened into one matrix across its experts or heads.
 * @example
 * { name: 'moe/experts', reductionAxes: [1], outputAxes: [2] } // [E, in, out]: E matrices [in, out]
 * { name: 'attention/out', reductionAxes: [1], outputAxes: [2] } // [heads, headDim, dModel]: one matrix per head
 * { name: 'attention/out', reshape: [8, -1, 512], reductionAxes: [1], outputAxes: [2] } // the same for a 2-D [8·64, 512] kernel: heads along its rows
 * { name: 'conv', convKernel: true }                            // a conv kernel given to muon() without its model
 */
export type MatrixViewRule = { readonly name: string } & (
  | { readonly reductionAxes: number | readonly number[]; readonly outputAxes: number | readonly number[]; readonly reshape?: readonly number[] }
  | { readonly convKernel: true }
);

/** Whether a variable is a convolution kernel by the class of the layer that owns it (known only from a model). */
export type IsConvKernel = (name: string) => boolean;

/** Without a model no variable is known to be a convolution kernel: each needs a rule. */
export const NO_CONV_KERNELS: IsConvKernel = () => false;

const axesOf = (axes: number | readonly number[]): readonly number[] => (typeof axes === 'number' ? [axes] : axes);

/** Checks the rules by position and field, naming the option's owner. */
export function checkMatrixViews(rules: readonly MatrixViewRule[], owner: string): void {
  if (!Array.isArray(rules)) throw new Error(`${owner}: matrixViews must be an array of { name, reductionAxes, outputAxes } or { name, convKernel: true }, got ${JSON.stringify(rules)}`);
  rules.forEach((rule: unknown, i) => {
    const { name, reductionAxes, outputAxes, reshape, convKernel } = (rule ?? {}) as { name?: unknown; reductionAxes?: unknown; outputAxes?: unknown; reshape?: unknown; convKernel?: unknown };
    if (typeof name !== 'string' || name === '') throw new Error(`${owner}: matrixViews[${i}].name must be a non-empty string, got ${JSON.stringify(name)}`);
    if (convKernel !== undefined) {
      if (convKernel !== true || reductionAxes !== undefined || outputAxes !== undefined || reshape !== undefined) {
        throw new Error(`${owner}: matrixViews[${i}] ('${name}') must be either { name, convKernel: true } or { name, reductionAxes, outputAxes }, got ${JSON.stringify(rule)}`);
      }
      return;
    }
    for (const [field, axes] of [['reductionAxes', reductionAxes], ['outputAxes', outputAxes]] as const) {
      const list = typeof axes === 'number' ? [axes] : axes;
      if (!Array.isArray(list) || list.length === 0 || list.some((axis) => !Number.isInteger(axis))) {
        throw new Error(`${owner}: matrixViews[${i}].${field} ('${name}') must be an integer axis or a non-empty list of them, got ${JSON.stringify(axes)}`);
      }
    }
    if (reshape !== undefined && (!Array.isArray(reshape) || reshape.length === 0 || reshape.some((d) => !Number.isInteger(d) || (d < 1 && d !== -1)))) {
      throw new Error(`${owner}: matrixViews[${i}].reshape ('${name}') must be a list of positive sizes (one may be −1), got ${JSON.stringify(reshape)}`);
    }
  });
}

/**
 * How a matrix optimizer sees each variable: the first rule whose `name` the variable's contains;
 * without one, a matrix as itself and a convolution kernel (by `isConvKernel`) as
 * `convOrthogonalization` says; undefined for rank < 2 (refused elsewhere, with Muon's contract).
 * Throws for any other weight of rank ≥ 3, naming it, its shape and the option that declares its
 * view (prefixed with `owner` when given; a hybrid's refusal says the owner itself).
 */
export function matrixViewOf(
  rules: readonly MatrixViewRule[],
  convOrthogonalization: ConvOrthogonalization,
  isConvKernel: IsConvKernel,
  owner?: string,
): (name: string, shape: readonly number[]) => MatrixView | undefined {
  const prefix = owner === undefined ? '' : `${owner}: `;
  const convView = (shape: readonly number[]): MatrixView => (convOrthogonalization === 'perTap' ? perTapView(shape) : flattened(shape));
  return (name, shape) => {
    if (shape.length < 2) return undefined;
    const rule = rules.find((r) => name.includes(r.name));
    if (rule !== undefined && 'convKernel' in rule) return shape.length === 2 ? flattened(shape) : convView(shape);
    if (rule !== undefined) {
      try {
        const dims = { reductionAxes: axesOf(rule.reductionAxes), outputAxes: axesOf(rule.outputAxes), ...(rule.reshape !== undefined && { reshape: rule.reshape }) };
        return { ...batchedMatrixShape(shape, dims), updateScale: 1 };
      } catch (error) {
        throw new Error(`${prefix}matrixViews '${rule.name}' does not fit '${name}': ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      }
    }
    if (shape.length === 2) return flattened(shape);
    if (isConvKernel(name)) return convView(shape);
    throw new Error(`${prefix}${unviewedWeightMessage(name, shape)}`);
  };
}

function flattened(shape: readonly number[]): MatrixView {
  const { fanIn, fanOut } = matrixShape(shape);
  return { batch: 1, fanIn, fanOut, axesShape: shape, permutation: shape.map((_, axis) => axis), updateScale: 1 };
}

/** Why a weight of rank ≥ 3 that is not a convolution kernel has no matrix view, and the option that gives it one. */
function unviewedWeightMessage(name: string, shape: readonly number[]): string {
  const rank = shape.length;
  const { fanIn, fanOut } = matrixShape(shape);
  const batch = shape.slice(0, -2).reduce((p, d) => p * d, 1);
  return (
    `variable '${name}' has shape [${shape.join(', ')}] (rank ${rank}) and is not known to be a convolution kernel, ` +
    `so it has no matrix view: flattening it into one [${fanIn}, ${fanOut}] matrix would orthogonalize the matrices along its leading axes (experts, heads) as one. ` +
    `Declare its view with the option matrixViews, e.g. { name: '${name}', reductionAxes: [${rank - 2}], outputAxes: [${rank - 1}] } ` +
    `(${batch} ${batch === 1 ? 'matrix' : 'matrices'} [${shape[rank - 2]}, ${shape[rank - 1]}], the leading axes batch axes), or { name: '${name}', convKernel: true } for a convolution kernel; ` +
    'or route it to AdamW'
  );
}
