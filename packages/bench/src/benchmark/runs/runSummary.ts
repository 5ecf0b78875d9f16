import { smoothingWindow } from '../protocol/stats.js';

/** What the log is told at the end of every run: the quantities the table and the search use. */
export interface RunSummary {
  model: string;
  optimizer: string;
  phase: string;
  steps: number;
  /** `finalLoss` (protocol/stats.ts) of the run's per-step losses: the table's "final train loss" for a measured run. */
  finalTrainLoss: number;
  /** The split evaluated at the end: validation for tuning runs, test for measured runs. */
  split: 'validation' | 'test';
  /** Loss on that split (a tuning run's is what the search compares). */
  evaluationLoss: number;
  diverged: boolean;
  /** Seconds of training steps. */
  trainSeconds: number;
}

/**
 * The log line of one finished run: its final train loss, computed as the table's column is (for
 * a measured run, the same number), and the loss on the split evaluated at its end (for a tuning
 * run, what the search compares).
 */
export function formatRunSummary(s: RunSummary): string {
  const evaluation = s.diverged ? 'diverged' : `${s.split} loss ${s.evaluationLoss.toFixed(4)}`;
  return `${s.model} ${s.optimizer} ${s.phase}: final train loss ${s.finalTrainLoss.toFixed(4)} (mean of the last ` +
    `${smoothingWindow(s.steps)} steps), ${evaluation}, ${s.trainSeconds.toFixed(1)} s of training steps`;
}
