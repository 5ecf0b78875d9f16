import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { type BlockColumnsRule, type DecaySchedule, type MuonHyperParameters, type Scheduled, hybrid, isSchedule, linearDecay, momentumWarmup } from 'muon-tfjs';
import { ADAMW, MUON, type OptimizerSpec } from './optimizers.js';

/**
 * The rules used in practice where Muon trains conv nets, each a variant of the benchmark's Muon
 * hybrid (issue 12, item 5: "why only transformers?"). Sources, read at these snapshots:
 * - KellerJordan/cifar10-airbench `airbench94_muon.py` (096d14d) and `research/clean_muon.py`:
 *   Muon on every trainable 4-D filter, each flattened to `(out, in·kh·kw)` and orthogonalized
 *   whole, no shape scale, momentum 0.6 Nesterov, 3 Newton–Schulz steps, lr 0.24 decayed linearly
 *   to 0 with no warm-up; the first conv is a frozen whitening layer (not trained at all), the
 *   head and biases go to SGD or Adam; BatchNorm after every conv and the weights renormalized to
 *   ‖W‖_F = √out before each step.
 * - KellerJordan/Muon and modded-nanogpt: "should not be used for the embedding layer, the final
 *   fully connected layer … To use it with 4D convolutional filters, it works well to just flatten
 *   their last 3 dimensions"; momentum warm-up 0.85 → 0.95 (`train_gpt.py`).
 * - huggingface/pytorch-image-models `timm/optim/muon.py`: `conv_mode` `flatten` (default) or
 *   `batched` (each spatial tap's `[out, in]` matrix, the update divided by √taps), and the
 *   `adjust_lr_fn` shape scales, `match_rms_adamw` (0.2·√max) by default.
 */
export interface ConvNetRule {
  /** The spec's `kind`: its id in results.json and on the command line. */
  readonly id: string;
  readonly label: string;
  /** What the rule changes and where it comes from, for the report. */
  readonly description: string;
  /** The first conv layer's kernel: Muon (the default routing) or AdamW (an input layer). */
  readonly firstConv: 'muon' | 'adamw';
  /** Muon options over the benchmark's ({@link MUON}). */
  readonly muon: Pick<MuonHyperParameters, 'lrAdjust' | 'convOrthogonalization'> & { readonly nsSteps?: number; readonly momentum?: number };
  /** Orthogonalize each output filter alone (a `[fanIn, 1]` block: its normalized gradient). */
  readonly perFilter: boolean;
  /**
   * Warm-up over this fraction of the run for Muon's rate (inside the given decay schedule) and
   * for its momentum (0.85 → its value, modded-nanogpt); 0: none.
   */
  readonly warmupFraction: number;
  /** Peak learning rates tried first (the protocol extends it past an edge choice). */
  readonly grid: readonly number[];
}

/**
 * One step above the benchmark Muon's grid: under linear decay to 0, short tuning runs of these
 * rules favoured 0.1–0.2 (a pilot at 107 steps); the protocol extends either edge anyway.
 */
const MUON_GRID = [0.02, 0.05, 0.1, 0.2, 0.4] as const;
const FIRST_CONV_ADAMW = { firstConv: 'adamw', perFilter: false, warmupFraction: 0 } as const;

/** The rules compared on the ConvNets, the benchmark's default first. */
export const CONVNET_RULES: readonly ConvNetRule[] = [
  {
    id: 'muon-all-convs', label: 'Muon, every conv', firstConv: 'muon', perFilter: false, warmupFraction: 0, muon: {}, grid: MUON_GRID,
    description: "the benchmark's Muon hybrid: both convs and the hidden Dense on Muon, each conv kernel flattened to [kh·kw·in, out]",
  },
  {
    id: 'muon-first-conv-adamw', label: 'Muon, first conv on AdamW', ...FIRST_CONV_ADAMW, muon: {}, grid: MUON_GRID,
    description: 'the first conv ([3·3·1, 16]: an input layer, like an embedding) on AdamW with the head and biases',
  },
  {
    id: 'muon-per-tap', label: 'Muon, per-tap', ...FIRST_CONV_ADAMW, muon: { convOrthogonalization: 'perTap' }, grid: [0.05, 0.1, 0.2, 0.4, 0.8],
    description: "first conv on AdamW; each tap's [in, out] matrix orthogonalized alone, update ÷ √taps (timm conv_mode batched)",
  },
  {
    id: 'muon-per-filter', label: 'Muon, per-filter', ...FIRST_CONV_ADAMW, perFilter: true, muon: {}, grid: MUON_GRID,
    description: "first conv on AdamW; each output filter's [kh·kw·in] column orthogonalized (normalized) alone",
  },
  {
    id: 'muon-match-adamw', label: 'Muon, 0.2·√max scale', ...FIRST_CONV_ADAMW, muon: { lrAdjust: 'matchAdamW' }, grid: [1e-3, 3e-3, 1e-2, 3e-2, 0.1],
    description: "first conv on AdamW; Moonlight's RMS-matching shape scale 0.2·√max(fanIn, fanOut) (timm's default) instead of √max(1, fanOut/fanIn)",
  },
  {
    id: 'muon-airbench', label: 'Muon, airbench settings', ...FIRST_CONV_ADAMW, muon: { momentum: 0.6, nsSteps: 3, lrAdjust: 'none' }, grid: MUON_GRID,
    description: "first conv on AdamW; the CIFAR-10 airbench Muon: momentum 0.6 Nesterov, 3 Newton–Schulz steps, no shape scale",
  },
  {
    id: 'muon-warmup', label: 'Muon, warm-up', ...FIRST_CONV_ADAMW, warmupFraction: 0.1, muon: {}, grid: MUON_GRID,
    description: "first conv on AdamW; Muon's rate warmed up linearly over the first 10 % of the run and its momentum from 0.85 over the same steps",
  },
];

/** The rule of an id, or an error listing the ids. */
export function convNetRule(id: string): ConvNetRule {
  const rule = CONVNET_RULES.find((r) => r.id === id);
  if (rule === undefined) throw new Error(`unknown ConvNet rule '${id}'; choose from ${CONVNET_RULES.map((r) => r.id).join(', ')}`);
  return rule;
}

/** The model's Conv2D layers, in order. */
function convLayers(model: tfl.LayersModel): tfl.layers.Layer[] {
  return model.layers.filter((layer) => layer.getClassName() === 'Conv2D');
}

/**
 * A rule's warm-up inside the run's decay schedule: the same peak, length and end, with
 * `fraction` of its steps of linear warm-up (a tuning run's compressed schedule gets a compressed
 * warm-up). A warm-up needs the run's length, so a plain number is refused.
 */
export function withWarmup(learningRate: Scheduled, fraction: number): DecaySchedule {
  if (!isSchedule(learningRate) || learningRate.kind !== 'decay' || learningRate.shape !== 'linear') {
    throw new Error(`withWarmup: a warm-up rule needs the run's linear decay schedule to know its length; got ${JSON.stringify(learningRate)}`);
  }
  const warmupSteps = Math.max(learningRate.warmupSteps, Math.round(fraction * learningRate.steps));
  return linearDecay({ peak: learningRate.peak, steps: learningRate.steps, final: learningRate.final, warmupSteps });
}

/** The benchmark spec of a rule: the Muon hybrid with the rule's routing and options. */
export function convNetRuleSpec(rule: ConvNetRule): OptimizerSpec {
  return {
    kind: rule.id,
    label: rule.label,
    grid: rule.grid,
    hyperParameters: {
      ...MUON, lrAdjust: 'original', ...rule.muon, firstConv: rule.firstConv, perFilter: rule.perFilter, warmupFraction: rule.warmupFraction,
      auxiliary: 'AdamW (same settings as AdamW, its chosen lr)', rule: rule.description,
    },
    usesAuxiliaryAdamW: true,
    create(learningRate: Scheduled, { model, auxLearningRate, orthogonalize }): tf.Optimizer {
      const convs = convLayers(model);
      const firstConvWeights = new Set(rule.firstConv === 'adamw' ? (convs[0]?.trainableWeights.map((w) => w.name) ?? []) : []);
      const muonConvs = rule.firstConv === 'adamw' ? convs.slice(1) : convs;
      const blockColumns: BlockColumnsRule[] = rule.perFilter
        ? muonConvs.map((layer) => ({ name: `${layer.name}/`, blocks: (layer.getConfig() as { filters: number }).filters }))
        : [];
      const warm = rule.warmupFraction > 0;
      const muonRate = warm ? withWarmup(learningRate, rule.warmupFraction) : learningRate;
      const momentum = warm
        ? momentumWarmup({ to: rule.muon.momentum ?? MUON.momentum, steps: Math.max(1, (muonRate as DecaySchedule).warmupSteps) })
        : (rule.muon.momentum ?? MUON.momentum);
      return hybrid(model, {
        groups: {
          muon: { optimizer: 'muon', options: { ...MUON, ...rule.muon, momentum, learningRate: muonRate, blockColumns, ...(orthogonalize && { execution: { orthogonalize } }) } },
          adamw: { optimizer: 'adamw', options: { learningRate: auxLearningRate, ...ADAMW } },
        },
        label: (v) => (firstConvWeights.has(v.name) ? 'adamw' : undefined),
      });
    },
  };
}
