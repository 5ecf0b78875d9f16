/**
 * tfjs-layers makes every variable name unique in the process by appending `_1`, `_2`, … to the
 * scoped name (`getUniqueTensorName`), so a model reloaded in the same process trains variables
 * called `dense_Dense1/kernel_1` while its checkpoint speaks of `dense_Dense1/kernel`. State keyed
 * by name may bind through this base name (see `bindRestoredNames`).
 */
export function baseVariableName(name: string): string {
  return name.replace(/_\d+$/, '');
}
