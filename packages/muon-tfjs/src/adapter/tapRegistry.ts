import type * as tf from '@tensorflow/tfjs-core';
import { SILENT_TAPS, type Taps } from '../transforms/taps.js';

/** One observation handed to a tap listener. */
export interface TapEvent {
  /** The tap point, e.g. `muon/newtonSchulzInput` (see `MUON_TAPS`) or `<label>/output` of `observe`. */
  readonly point: string;
  /** The 1-based index of the step being computed. */
  readonly step: number;
  /** The variable the value belongs to. */
  readonly variable: string;
  /**
   * The value, valid only during the call: read it (`dataSync`, `arraySync`) or keep a copy with
   * `tf.keep(value.clone())`. Muon's points hand over the `[fanIn, fanOut]` matrix view.
   */
  readonly value: tf.Tensor;
}

/** Receives the observations of one tap point. Synchronous: it runs inside the optimizer step. */
export type TapListener = (event: TapEvent) => void;

/** When a listener hears its point. */
export interface TapOptions {
  /** Hear the steps whose index is a multiple of `every` (a positive integer; default 1, every step). */
  readonly every?: number;
}

interface Subscription {
  readonly point: string;
  readonly listener: TapListener;
  readonly every: number;
}

/**
 * The listeners of an optimizer's tap points. Before each step it builds that step's {@link Taps}:
 * only the listeners due on that step are in it, and a step with none gets {@link SILENT_TAPS}, so
 * emitters skip all work (no op, no tensor, no read-back) for unheard points.
 */
export class TapRegistry {
  readonly #subscriptions = new Set<Subscription>();

  /**
   * Adds a listener to one of the `known` points (those the transformation emits); returns the
   * function that removes it.
   */
  add(point: string, listener: TapListener, options: TapOptions, known: readonly string[], owner: string): () => void {
    if (typeof point !== 'string' || point === '') {
      throw new Error(`tap: the point must be a non-empty string, got ${JSON.stringify(point)}`);
    }
    if (!known.includes(point)) {
      throw new Error(`${owner}.tap: unknown tap point '${point}'; ${known.length === 0 ? 'this optimizer has no tap points' : `this optimizer's points are ${known.map((p) => `'${p}'`).join(', ')}`}`);
    }
    if (typeof listener !== 'function') {
      throw new Error(`tap '${point}': the listener must be a function, got ${typeof listener}`);
    }
    const every = options.every ?? 1;
    if (!Number.isInteger(every) || every < 1) {
      throw new Error(`tap '${point}': every must be a positive integer, got ${String(every)}`);
    }
    const subscription: Subscription = { point, listener, every };
    this.#subscriptions.add(subscription);
    return () => {
      this.#subscriptions.delete(subscription);
    };
  }

  /** The taps of step `step`. A listener that throws aborts the step, naming its point. */
  forStep(step: number): Taps {
    const due = new Map<string, TapListener[]>();
    for (const { point, listener, every } of this.#subscriptions) {
      if (step % every !== 0) continue;
      const listeners = due.get(point) ?? [];
      listeners.push(listener);
      due.set(point, listeners);
    }
    if (due.size === 0) return SILENT_TAPS;
    return {
      heard: (point) => due.has(point),
      emit(point, variable, value) {
        for (const listener of due.get(point) ?? []) {
          try {
            listener({ point, step, variable, value });
          } catch (error) {
            throw new Error(`A listener of tap '${point}' threw at step ${step} (variable '${variable}'): ${error instanceof Error ? error.message : String(error)}; no variable was updated`, { cause: error });
          }
        }
      },
    };
  }
}
