import type * as tfl from '@tensorflow/tfjs-layers';
import { adamw, DION2_DEFAULTS, hybrid, lion, muonWithAdamW, smallestUsableConstant, type AdamWOptimizer, type CoefficientPreset, type HybridOptimizer, type LionOptimizer, type Route } from 'muon-tfjs';
import { scheduleFactor } from './learningRateSchedule.js';
import type { OptimizerId, PlaygroundState } from './playgroundState.js';

/** What the optimizers need to know of the backend the page runs on. */
export interface BackendTraits {
  /** Bits of the backend's stored floats (`backendFloatPrecision()`): 16 on WebGL devices without float32 render targets. */
  readonly floatPrecision: 16 | 32;
}

/** A float32 backend: cpu and wasm, and WebGL/WebGPU with float32 storage. */
export const FLOAT32_CPU: BackendTraits = { floatPrecision: 32 };

/** An optimizer of the playground, with the rate setter its schedule drives. */
export interface PlaygroundOptimizer {
  readonly id: OptimizerId;
  /** `muon` and `dion2`: a hybrid with the default routing's groups `muon` (hidden kernels) and `adamw` (the rest). */
  readonly optimizer: HybridOptimizer<Route> | AdamWOptimizer | LionOptimizer;
  /** Sets the learning rate(s) for step `step` of `steps` from the current settings. */
  setStep(state: PlaygroundState, step: number): void;
}

/**
 * Display names and chart colours: TensorFlow Playground's blue and orange, then green, and for
 * Dion2 a crimson apart in hue from those and from the spectra chart's purple, readable as the
 * table's text on white (contrast 5.9:1).
 */
export const OPTIMIZER_STYLE: Readonly<Record<OptimizerId, { label: string; color: string }>> = {
  muon: { label: 'Muon (+AdamW)', color: '#0877bd' },
  adamw: { label: 'AdamW', color: '#f59322' },
  lion: { label: 'Lion', color: '#2ca02c' },
  dion2: { label: 'Dion2 (+AdamW)', color: '#c2185b' },
};

// The benchmark's fixed hyper-parameters (packages/bench/src/benchmark/protocol/optimizers.ts): AdamW with
// PyTorch's defaults and wd 0.01, Muon with KellerJordan/Muon's momentum and wd 0.01, Lion with
// 10× AdamW's decay as its paper advises (arXiv 2302.06675 §5), Dion2 at its own defaults
// (dion2.py's). Dion2's wd is written out as Muon's, so that a change of the library's default
// cannot make the two hybrids differ by their decay.
const ADAMW = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01 } as const;
const MUON = { momentum: 0.95, nesterov: true, weightDecay: 0.01, eps: 1e-7 } as const;
const LION = { beta1: 0.9, beta2: 0.99, weightDecay: 0.1 } as const;
const DION2 = { weightDecay: MUON.weightDecay } as const;

/**
 * Builds one optimizer for a model. `muon` and `dion2` are hybrids routed alike, as in the
 * benchmark: the library's default routing sends the hidden kernels to the group labelled `muon`
 * (Muon with the chosen Newton–Schulz preset and steps, or Dion2 with its own) and the
 * embeddings, head and biases to the group labelled `adamw`, at AdamW's learning rate and
 * schedule. Every optimizer keeps the library's all-or-nothing check: on WebGL/WebGPU it is
 * decided on the device (`finiteGuard: 'auto'`), with no read-back in the step, and a refused
 * step's error reaches a later `applyGradients`, where the trainer marks the run diverged. On a
 * backend that stores 16-bit floats, AdamW's ε and Muon's and Dion2's eps are raised to the
 * smallest constant it keeps (1e-4): the library refuses constants that vanish there, and leaves
 * the choice to its user.
 */
export function createOptimizer(id: OptimizerId, state: PlaygroundState, model: tfl.LayersModel, backend: BackendTraits): PlaygroundOptimizer {
  const representable = (value: number): number => Math.max(value, backend.floatPrecision === 16 ? smallestUsableConstant(16) : 0);
  const adamwOptions = { learningRate: state.settings.adamw.lr, ...ADAMW, epsilon: representable(ADAMW.epsilon) };
  const rate = (s: PlaygroundState, which: OptimizerId, step: number): number =>
    s.settings[which].lr * scheduleFactor(s.settings[which].schedule, step, s.steps);
  if (id === 'muon' || id === 'dion2') {
    const optimizer = id === 'muon'
      ? muonWithAdamW(model, {
        muon: { learningRate: state.settings.muon.lr, ...MUON, eps: representable(MUON.eps), coefficients: state.preset satisfies CoefficientPreset, nsSteps: state.nsSteps },
        adamw: adamwOptions,
      })
      // The default routing's labels, as muonWithAdamW's: hidden kernels → 'muon' (here Dion2), the rest → 'adamw'.
      : hybrid(model, {
        groups: {
          muon: { optimizer: 'dion2', options: { learningRate: state.settings.dion2.lr, ...DION2, eps: representable(DION2_DEFAULTS.eps) } },
          adamw: { optimizer: 'adamw', options: adamwOptions },
        },
      });
    return {
      id,
      optimizer,
      setStep: (s, step) => {
        optimizer.setLearningRate('muon', rate(s, id, step));
        optimizer.setLearningRate('adamw', rate(s, 'adamw', step));
      },
    };
  }
  const optimizer = id === 'adamw' ? adamw(adamwOptions) : lion({ learningRate: state.settings.lion.lr, ...LION });
  return { id, optimizer, setStep: (s, step) => { optimizer.learningRate = rate(s, id, step); } };
}
