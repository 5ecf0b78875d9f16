import type { OptimizerId } from './playgroundState.js';

/** What the automation contract exposes, plus held-out losses, speeds and the first error. */
export interface PlaygroundStatus {
  backend: string;
  /** Why that backend: what `auto` passed over, or which named backend failed to start. */
  backendReason: string;
  /** Bits of the backend's stored floats (16 on WebGL without float32 render targets). */
  floatPrecision: 16 | 32;
  step: number;
  done: boolean;
  losses: Partial<Record<OptimizerId, number[]>>;
  heldOut: Partial<Record<OptimizerId, [number, number][]>>;
  /** The message of every run that diverged ("AdamW diverged: lower its learning rate"). */
  divergence: Partial<Record<OptimizerId, string>>;
  /** Mean milliseconds per whole training step and per optimizer step, by optimizer. */
  stepMs: Partial<Record<OptimizerId, number>>;
  optimizerMs: Partial<Record<OptimizerId, number>>;
  /** Every step's milliseconds, whole step and optimizer step (for `npm run bench:playground`). */
  timings: Partial<Record<OptimizerId, { stepMs: number[]; optimizerMs: number[] }>>;
  /** Data points each chart holds (for the e2e test's "every chart renders non-empty"). */
  charts: { loss: number; histogram: number; quantiles: number; polynomial: number; boundaries: number };
  /** The URL's values the page did not use, as `key=value (why)`. */
  ignoredUrlValues: string[];
  error: string | null;
}
