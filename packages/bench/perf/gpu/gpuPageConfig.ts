import type { GpuBenchConfig } from './gpuBench.js';

/**
 * What `npm run bench:gpu`'s runner asks of its page, apart from the page itself: importing the
 * page would import tfjs-backend-webgpu, which registers itself only if `navigator.gpu` exists
 * when it loads, before the runner has set Dawn's up in Node.
 */
export const BROWSER_BACKENDS = ['wasm', 'webgl', 'webgpu'] as const;
export type BrowserBackend = (typeof BROWSER_BACKENDS)[number];

/** One page call: the backend to start and the measurements to run on it. */
export interface GpuPageConfig {
  readonly backend: BrowserBackend;
  readonly bench: GpuBenchConfig;
}
