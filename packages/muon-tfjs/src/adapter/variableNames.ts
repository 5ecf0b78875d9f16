/**
 * tfjs-layers makes every variable name unique in the process by appending `_1`, `_2`, … to the
 * scoped name (`getUniqueTensorName`), so a model reloaded in the same process trains variables
 * called `dense_Dense1/kernel_1` while its checkpoint speaks of `dense_Dense1/kernel`. State keyed
 * by name is matched through this base name when the exact name is absent.
 */
export function baseVariableName(name: string): string {
  return name.replace(/_\d+$/, '');
}

/**
 * Finds the key of `candidates` that stands for the live variable `name`: the exact name if
 * present, else the single key with the same base name. Throws if several keys share it.
 */
export function matchVariableName(name: string, candidates: Iterable<string>): string | undefined {
  const keys = [...candidates];
  if (keys.includes(name)) {
    return name;
  }
  const base = baseVariableName(name);
  const found = keys.filter((k) => baseVariableName(k) === base);
  if (found.length > 1) {
    throw new Error(`Variable '${name}' could stand for any of ${found.map((k) => `'${k}'`).join(', ')} in the restored state; rename the variables so that each is unique`);
  }
  return found[0];
}
