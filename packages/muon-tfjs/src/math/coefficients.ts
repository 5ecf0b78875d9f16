/**
 * Newton–Schulz coefficient schedules.
 *
 * Every schedule iterates X ← aX + b(XXᵀ)X + c(XXᵀ)²X, i.e. applies the odd quintic
 * p(σ) = aσ + bσ³ + cσ⁵ to each singular value σ of the normalized input. A schedule is a list of
 * (a, b, c) triples, one per iteration, plus how the input is normalized before the first one:
 * divided by its Frobenius norm, inflated by a factor (Polar Express designs its polynomials for
 * inputs shrunk by it), or AOL-rescaled row by row (Turbo-Muon, whose coefficients are tuned for
 * the spectrum that rescaling leaves).
 *
 * Sources and worst-case errors are in `shared/reference/muon-anchors.md` §b.6; the property tests
 * in `coefficients.test.ts` recompute those errors in float64.
 */

/** One iteration's (a, b, c) of the quintic aσ + bσ³ + cσ⁵. */
export type Quintic = readonly [a: number, b: number, c: number];

/**
 * How the input is brought into the polynomials' range [0, 1] before the first iteration.
 *
 * - `'frobenius'`: X / (normalizationScale·‖X‖_F + eps) (KellerJordan/Muon and every preset but
 *   one). ‖X‖_F ≥ ‖X‖₂, so every σ lands in [0, 1]; the result approximates polar(X).
 * - `'aol'`: AOL rescaling (Prach & Lampert, arXiv 2208.03160), the preconditioning of Turbo-Muon
 *   (Boissin et al., arXiv 2512.04632). With X oriented rows ≤ cols and A = XXᵀ,
 *   s_i = 1/max(√(Σ_j |A_ij|), eps) and the iteration starts from diag(s)·X, with
 *   diag(s)·A·diag(s) as its first Gram matrix (A is needed by the first iteration anyway, so the
 *   rescaling costs one pass over the m×m matrix A). ‖diag(s)·X‖₂ ≤ 1 (the Schur test on
 *   diag(s)·A·diag(s)), and the rows come out with comparable norms, which lifts the small singular
 *   values the Frobenius division leaves near 0. The price: the left scaling changes the matrix, so
 *   the result approximates polar(diag(s)·X), not polar(X) (docs/performance.md measures both).
 *   The published form is rsqrt(max(Σ_j|A_ij|, ε)); our floor is on the square root, in X's
 *   units like the Frobenius eps (ε = eps²).
 */
export type NewtonSchulzNormalization = 'frobenius' | 'aol';

/** A resolved schedule: what `newtonSchulz` actually runs. */
export interface CoefficientSchedule {
  /** One triple per iteration, in order. */
  readonly iterations: readonly Quintic[];
  /** With `'frobenius'` normalization the input is divided by `normalizationScale·‖X‖_F + eps` (1 for most schedules). */
  readonly normalizationScale: number;
  /** How the input is normalized before the first iteration. */
  readonly normalization: NewtonSchulzNormalization;
}

interface Preset {
  /** The schedule's own triples; a single triple is repeated for as many steps as asked. */
  readonly triples: readonly Quintic[];
  readonly normalizationScale: number;
  readonly normalization: NewtonSchulzNormalization;
}

const youDivisor = 1024;
/** Amsel et al. divide all but the last polynomial by (1+ε)^{1,3,5} with ε = 0.01 (safety margin). */
const amselSafety = 1.01;
const amselSafe = ([a, b, c]: Quintic): Quintic => [a / amselSafety, b / amselSafety ** 3, c / amselSafety ** 5];

const PRESETS = {
  /** Keller Jordan's quintic, tuned to maximize the slope at zero (non-convergent: σ → [0.68, 1.13]). */
  jordan: { triples: [[3.4445, -4.775, 2.0315]], normalizationScale: 1, normalization: 'frobenius' },
  /** Franz Cesista (@leloykun) 5-step schedule, modded-nanogpt track 2 record #4; optax `'dion'`. */
  cesista5: {
    triples: [
      [4.0848, -6.8946, 2.927],
      [3.9505, -6.3029, 2.6377],
      [3.7418, -5.5913, 2.3037],
      [2.8769, -3.1427, 1.2046],
      [2.8366, -3.0525, 1.2012],
    ],
    normalizationScale: 1,
    normalization: 'frobenius',
  },
  /** Jiacheng You's 6-step schedule (docs.modula.systems), integer numerators over 1024. */
  you6: {
    triples: (
      [
        [3955, -8306, 5008],
        [3735, -6681, 3463],
        [3799, -6499, 3211],
        [4019, -6385, 2906],
        [2677, -3029, 1162],
        [2172, -1833, 682],
      ] as const
    ).map(([a, b, c]): Quintic => [a / youDivisor, b / youDivisor, c / youDivisor]),
    normalizationScale: 1,
    normalization: 'frobenius',
  },
  /**
   * Polar Express 5-step (Amsel et al. 2025, arXiv 2505.16932) as used by modded-nanogpt record #38
   * and microsoft/dion; its safety factor 1.02 is applied to the Frobenius norm.
   */
  polarExpress5: {
    triples: [
      [8.156554524902461, -22.48329292557795, 15.878769915207462],
      [4.042929935166739, -2.808917465908714, 0.5000178451051316],
      [3.8916678022926607, -2.772484153217685, 0.5060648178503393],
      [3.285753657755655, -2.3681294933425376, 0.46449024233003106],
      [2.3465413258596377, -1.7097828382687081, 0.42323551169305323],
    ],
    normalizationScale: 1.02,
    normalization: 'frobenius',
  },
  /**
   * Polar Express 8-step (Amsel's `optimal_composition(l=1e-3, 8 iterations)`): convergent, its
   * composed polynomial is within 1e-14 of 1 for normalized singular values in [1e-3, 1]. Use it
   * when the true polar factor UVᵀ is wanted.
   */
  polarExpress8: {
    triples: [
      amselSafe([8.28721201814563, -23.595886519098837, 17.300387312530933]),
      amselSafe([4.107059111542203, -2.9478499167379106, 0.5448431082926601]),
      amselSafe([3.9486908534822946, -2.908902115962949, 0.5518191394370137]),
      amselSafe([3.3184196573706015, -2.488488024314874, 0.51004894012372]),
      amselSafe([2.300652019954817, -1.6689039845747493, 0.4188073119525673]),
      amselSafe([1.891301407787398, -1.2679958271945868, 0.37680408948524835]),
      amselSafe([1.8750014808534479, -1.2500016453999487, 0.3750001645474248]),
      [1.875, -1.25, 0.375],
    ],
    normalizationScale: 1.01,
    normalization: 'frobenius',
  },
  /**
   * Turbo-Muon (Boissin et al. 2025, arXiv 2512.04632; modded-nanogpt record 2025-11-11
   * "TurboMuon"): AOL normalization and four iterations whose coefficients were tuned for the
   * AOL-rescaled spectrum (the published triples of thib-s/flash-newton-schulz's
   * `newton_schulz_triton_aol`). Measured against polar(X) (docs/performance.md): 0.033 on a
   * Gaussian 256×1024 against 0.154 for five `jordan` iterations, but no better than `jordan` on
   * ill-conditioned inputs, where AOL leaves σ below the tuned range and its target
   * polar(diag(s)·X) moves away from polar(X) (see {@link NewtonSchulzNormalization}).
   */
  turboMuon: {
    triples: [
      [4.6051, -9.6552, 5.6769],
      [4.7505, -6.0861, 2.179],
      [2.7763, -2.319, 0.5523],
      [2.4231, -2.2861, 0.8193],
    ],
    normalizationScale: 1,
    normalization: 'aol',
  },
} as const satisfies Record<string, Preset>;

/** Names of the built-in coefficient schedules. */
export type CoefficientPreset = keyof typeof PRESETS;

/** The preset names, for validation messages, CLIs and UIs. */
export const COEFFICIENT_PRESETS = Object.keys(PRESETS) as readonly CoefficientPreset[];

/** The default schedule (Keller Jordan's quintic) and its default number of iterations. */
export const DEFAULT_COEFFICIENTS: CoefficientPreset = 'jordan';
export const DEFAULT_NS_STEPS = 5;

/**
 * How a caller names a schedule: a preset name, one (a, b, c) triple repeated every iteration, or
 * an explicit list with one triple per iteration.
 */
export type CoefficientSpec = CoefficientPreset | Quintic | readonly Quintic[];

function isTriple(spec: Quintic | readonly Quintic[]): spec is Quintic {
  return typeof spec[0] === 'number';
}

function checkTriple(triple: readonly unknown[], where: string): Quintic {
  if (triple.length !== 3 || !triple.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw new Error(`${where}: expected three finite numbers (a, b, c), got ${JSON.stringify(triple)}`);
  }
  return triple as unknown as Quintic;
}

/**
 * Turns a coefficient spec and a step count into the exact schedule to run.
 *
 * A single triple (preset `jordan` or an explicit `[a, b, c]`) is repeated `steps` times
 * (default 5). A list runs once per entry; a larger `steps` repeats its last entry (the Polar
 * Express convention: the tail polynomials are the convergent fixed point); a smaller `steps`
 * is refused, since truncating a designed composition silently changes its guarantees.
 */
export function resolveCoefficients(spec: CoefficientSpec = DEFAULT_COEFFICIENTS, steps?: number): CoefficientSchedule {
  let triples: readonly Quintic[];
  let normalizationScale = 1;
  let normalization: NewtonSchulzNormalization = 'frobenius';
  let repeatable: boolean;
  if (typeof spec === 'string') {
    const preset = (PRESETS as Record<string, Preset>)[spec];
    if (preset === undefined) {
      throw new Error(`Unknown Newton–Schulz coefficient preset '${spec}'; known presets: ${COEFFICIENT_PRESETS.join(', ')}`);
    }
    triples = preset.triples;
    normalizationScale = preset.normalizationScale;
    normalization = preset.normalization;
    repeatable = triples.length === 1;
  } else if (Array.isArray(spec) && spec.length > 0 && isTriple(spec)) {
    triples = [checkTriple(spec, 'coefficients')];
    repeatable = true;
  } else if (Array.isArray(spec) && spec.length > 0) {
    triples = (spec as readonly Quintic[]).map((t, i) => checkTriple(Array.isArray(t) ? t : [t], `coefficients[${i}]`));
    repeatable = false;
  } else {
    throw new Error(`coefficients: expected a preset name, an [a, b, c] triple or a list of triples, got ${JSON.stringify(spec)}`);
  }
  const count = steps ?? (repeatable ? DEFAULT_NS_STEPS : triples.length);
  if (!Number.isInteger(count) || count < 1 || count > 100) {
    throw new Error(`nsSteps must be an integer in [1, 100], got ${String(steps)}`);
  }
  if (!repeatable && count < triples.length) {
    throw new Error(
      `nsSteps=${count} is fewer than the ${triples.length} iterations of the chosen schedule; ` +
        'truncating a designed schedule changes its error bound: choose a shorter schedule instead',
    );
  }
  const last = triples[triples.length - 1] as Quintic;
  const iterations = Array.from({ length: count }, (_, i) => triples[i] ?? last);
  return { iterations, normalizationScale, normalization };
}

/**
 * Evaluates the composed scalar map σ ↦ p_k(…p_1(σ/normalizationScale)) in float64: what the
 * schedule does to a singular value σ of the Frobenius-normalized input (for `'aol'`
 * normalization: of the AOL-rescaled input diag(s)·X), ignoring round-off.
 */
export function composedPolynomial(schedule: CoefficientSchedule, sigma: number): number {
  let x = sigma / schedule.normalizationScale;
  for (const [a, b, c] of schedule.iterations) {
    const x2 = x * x;
    x = x * (a + x2 * (b + c * x2));
  }
  return x;
}

/**
 * The schedule as a plain list of triples with its normalization scale s folded into the first
 * one (p₁(x/s) = (a/s)x + (b/s³)x³ + (c/s⁵)x⁵), so that a generated or chosen schedule can be
 * passed wherever a {@link CoefficientSpec} is taken. Equal to the schedule in exact arithmetic;
 * in float32 the two differ by round-off only. The list carries no normalization: passed on, it
 * runs after the Frobenius one (an `'aol'` schedule's triples then see another spectrum).
 *
 * @example
 * ```ts
 * const schedule = polarExpressSchedule({ lowerBound: 0.01, steps: 4 });
 * const o = newtonSchulz(g, { coefficients: foldNormalization(schedule) });
 * ```
 */
export function foldNormalization(schedule: CoefficientSchedule): readonly Quintic[] {
  const s = schedule.normalizationScale;
  return schedule.iterations.map(([a, b, c], i): Quintic => (i === 0 ? [a / s, b / s ** 3, c / s ** 5] : [a, b, c]));
}
