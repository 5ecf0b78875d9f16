/** Messages already printed in this process. */
const said = new Set<string>();

/**
 * Prints `message` on the console the first time it is asked to in this process: a kernel's
 * fallback (float32 for a precision it lacks, the TF.js kernel for a normalization it lacks) is
 * said once, not at every step.
 */
export function warnOnce(message: string): void {
  if (said.has(message)) return;
  said.add(message);
  console.warn(message);
}
