import type * as tfl from '@tensorflow/tfjs-layers';
import { adamw, lion, muonWithAdamW, smallestUsableConstant, type AdamWOptimizer, type CoefficientPreset, type LionOptimizer, type MuonWithAdamWOptimizer } from 'muon-tfjs';
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
  readonly optimizer: MuonWithAdamWOptimizer | AdamWOptimizer | LionOptimizer;
  /** Sets the learning rate(s) for step `step` of `steps` from the current settings. */
  setStep(state: PlaygroundState, step: number): void;
}

/** Display names and chart colours (TensorFlow Playground's blue and orange, then green). */
export const OPTIMIZER_STYLE: Readonly<Record<OptimizerId, { label: string; color: string }>> = {
  muon: { label: 'Muon (+AdamW)', color: '#0877bd' },
  adamw: { label: 'AdamW', color: '#f59322' },
  lion: { label: 'Lion', color: '#2ca02c' },
};

// The benchmark's fixed hyper-parameters (packages/bench/src/benchmark/protocol/optimizers.ts): AdamW with
// PyTorch's defaults and wd 0.01, Muon with KellerJordan/Muon's momentum and wd 0.01, Lion with
// 10× AdamW's decay as its paper advises (arXiv 2302.06675 §5).
const ADAMW = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01 } as const;
const MUON = { momentum: 0.95, nesterov: true, weightDecay: 0.01, eps: 1e-7 } as const;
const LION = { beta1: 0.9, beta2: 0.99, weightDecay: 0.1 } as const;

/**
 * Builds one optimizer for a model. `muon` is the hybrid: hidden kernels go to Muon with the
 * chosen Newton–Schulz preset and steps, the rest to AdamW at AdamW's learning rate and schedule,
 * as in the benchmark. Every optimizer keeps the library's all-or-nothing check: on WebGL/WebGPU
 * it is decided on the device (`finiteGuard: 'auto'`), with no read-back in the step, and a
 * refused step's error reaches a later `applyGradients`, where the trainer marks the run diverged. On a backend that
 * stores 16-bit floats, AdamW's ε and Muon's eps are raised to the smallest constant it keeps
 * (1e-4): the library refuses constants that vanish there, and leaves the choice to its user.
 */
export function createOptimizer(id: OptimizerId, state: PlaygroundState, model: tfl.LayersModel, backend: BackendTraits): PlaygroundOptimizer {
  const representable = (value: number): number => Math.max(value, backend.floatPrecision === 16 ? smallestUsableConstant(16) : 0);
  const adamwOptions = { ...ADAMW, epsilon: representable(ADAMW.epsilon) };
  const rate = (s: PlaygroundState, which: OptimizerId, step: number): number =>
    s.settings[which].lr * scheduleFactor(s.settings[which].schedule, step, s.steps);
  let built: PlaygroundOptimizer;
  if (id === 'muon') {
    const optimizer = muonWithAdamW(model, {
      muon: { learningRate: state.settings.muon.lr, ...MUON, eps: representable(MUON.eps), coefficients: state.preset satisfies CoefficientPreset, nsSteps: state.nsSteps },
      adamw: { learningRate: state.settings.adamw.lr, ...adamwOptions },
    });
    built = {
      id,
      optimizer,
      setStep: (s, step) => {
        optimizer.muonLearningRate = rate(s, 'muon', step);
        optimizer.adamwLearningRate = rate(s, 'adamw', step);
      },
    };
  } else {
    const optimizer = id === 'adamw' ? adamw({ learningRate: state.settings.adamw.lr, ...adamwOptions }) : lion({ learningRate: state.settings.lion.lr, ...LION });
    built = { id, optimizer, setStep: (s, step) => { optimizer.learningRate = rate(s, id, step); } };
  }
  return built;
}
