import { afterAll, beforeAll } from 'vitest';
import { loadNativeAddon } from '../kernels/nativeAddon.js';

/**
 * Fixes the native kernel's thread count for the file (or `describe`) it is called in, and restores
 * the setting it found afterwards. For suites that compare two native runs bit for bit on products
 * large enough to be split (OpenBLAS runs sgemm on one thread up to 64³ multiply-adds): the bits of
 * such a product depend on the thread count (docs/performance.md, "A busy machine: the native kernel
 * follows the load"), and by
 * default every call takes the CPUs other processes leave free, so two runs on a busy machine (CI)
 * can differ by float32 round-off with neither wrong.
 */
export function fixNativeThreads(): void {
  const status = loadNativeAddon();
  if (!status.available) return;
  let found: { threads: number; followsLoad: boolean } | undefined;
  beforeAll(() => {
    const { threads, followsLoad } = status.addon.threading();
    found = { threads, followsLoad };
    status.addon.setThreads(threads, false);
  });
  afterAll(() => {
    if (found !== undefined) status.addon.setThreads(found.threads, found.followsLoad);
  });
}
