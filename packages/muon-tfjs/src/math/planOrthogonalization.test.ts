import { describe, expect, it } from 'vitest';
import { resolveNewtonSchulz } from './newtonSchulzSchedule.js';
import { orthogonalizationPlanner } from './orthogonalizationPlanner.js';
import { GENERAL_MATMUL_CAPABILITIES, type NewtonSchulzAlgorithm, gramNewtonSchulzFlops, planOrthogonalization, plainNewtonSchulzFlops } from './planOrthogonalization.js';

const SYRK = { symmetricProductsAtHalfCost: true, bfloat16Products: false, float16Products: false };

describe('Gram Newton–Schulz cost model', () => {
  it('counts the flops of both algorithms (5 steps, n = 4m, m = 1)', () => {
    // Plain: 5·(4·4 + 2) = 90. Gram with restart after 3: R and QX 4·4 = 16; iterations
    // 1: R² + ZRZ = 2 + 4, 2: R² + QZ + ZRZ = 8, 3: R² + QZ + restart (4·4) = 20, 4: R² + ZRZ = 6,
    // 5: R² + QZ = 4; total 60.
    expect(plainNewtonSchulzFlops(1, 4, 5)).toBe(90);
    expect(gramNewtonSchulzFlops(1, 4, 5, [3])).toBe(60);
    // Restarting after 2 costs the same: 16 + 6 + 4 + 16 + 6 + 8 + 4 = 60.
    expect(gramNewtonSchulzFlops(1, 4, 5, [2])).toBe(60);
    // With syrk for XXᵀ, A² and R² (the native kernel): plain 5·(4 + 1 + 8) = 65; Gram
    // 4 + 8 + (1 + 4) + (1 + 2 + 4) + (1 + 2 + 8 + 4) + (1 + 4) + (1 + 2) = 47.
    expect(plainNewtonSchulzFlops(1, 4, 5, true)).toBe(65);
    expect(gramNewtonSchulzFlops(1, 4, 5, [3], true)).toBe(47);
  });

  it('picks Gram for rectangular and plain for square matrices under auto, and obeys a forced algorithm', () => {
    const jordan = resolveNewtonSchulz({ coefficients: 'jordan' });
    const algorithm = (rows: number, cols: number, forced?: NewtonSchulzAlgorithm): string => planOrthogonalization(rows, cols, jordan, GENERAL_MATMUL_CAPABILITIES, forced).algorithm;
    expect(algorithm(768, 3072)).toBe('gram');
    expect(algorithm(768, 2304)).toBe('gram');
    expect(algorithm(768, 768)).toBe('plain');
    expect(algorithm(768, 768, 'gram')).toBe('gram');
    expect(algorithm(768, 3072, 'plain')).toBe('plain');
  });

  it('keeps convergent schedules on the plain iteration under auto, where round-off is the whole error', () => {
    const plan = (coefficients: 'polarExpress8' | 'polarExpress5'): string => planOrthogonalization(768, 3072, resolveNewtonSchulz({ coefficients }), SYRK).algorithm;
    expect(plan('polarExpress8')).toBe('plain');
    expect(plan('polarExpress5')).toBe('gram');
  });

  it('iterates on the smaller Gram side and reports the flops of what it plans', () => {
    const jordan = resolveNewtonSchulz();
    // 3072×768 is tall: transposed, the Gram side is 768×768, the cost that of 768×3072.
    expect(planOrthogonalization(3072, 768, jordan, SYRK)).toEqual({ algorithm: 'gram', transposed: true, flops: gramNewtonSchulzFlops(768, 3072, 5, [3], true) });
    expect(planOrthogonalization(768, 768, jordan, SYRK)).toEqual({ algorithm: 'plain', transposed: false, flops: plainNewtonSchulzFlops(768, 768, 5, true) });
  });

  it('takes the kernel capability as input: syrk moves the break-even where the two old cost models disagreed', () => {
    // 256×128, n = 2m, 5 steps (hand count, units of m³): general matmuls, plain 5·(4·2 + 2) = 50
    // and Gram 8 + 6 + 8 + 12 + 6 + 4 = 44, so Gram; with syrk, plain 5·(2 + 1 + 4) = 35 and Gram
    // 6 + 5 + 7 + 9 + 5 + 3 = 35, a tie, which stays plain. The old TypeScript rule (general
    // matmuls) and the old C++ rule (syrk) disagreed here and on 9×16; now one formula decides both.
    const jordan = resolveNewtonSchulz();
    for (const [rows, cols] of [
      [256, 128],
      [128, 256],
      [9, 16],
    ] as const) {
      expect(planOrthogonalization(rows, cols, jordan, GENERAL_MATMUL_CAPABILITIES).algorithm, `${rows}×${cols} general`).toBe('gram');
      expect(planOrthogonalization(rows, cols, jordan, SYRK).algorithm, `${rows}×${cols} syrk`).toBe('plain');
    }
    expect(planOrthogonalization(256, 128, jordan, GENERAL_MATMUL_CAPABILITIES).flops).toBe(44 * 128 ** 3);
    expect(planOrthogonalization(256, 128, jordan, SYRK).flops).toBe(35 * 128 ** 3);
  });

  it('plans the plain iteration for bfloat16 products under auto, Gram where bfloat16 runs as float32', () => {
    const bfloat16 = resolveNewtonSchulz({ precision: 'bfloat16' });
    const withBfloat16 = { symmetricProductsAtHalfCost: false, bfloat16Products: true, float16Products: false };
    expect(planOrthogonalization(768, 3072, bfloat16, withBfloat16).algorithm).toBe('plain');
    expect(planOrthogonalization(768, 3072, bfloat16, withBfloat16, 'gram').algorithm).toBe('gram');
    // A kernel that runs the schedule in float32 plans it as the float32 one.
    expect(planOrthogonalization(768, 3072, bfloat16, GENERAL_MATMUL_CAPABILITIES)).toEqual(planOrthogonalization(768, 3072, resolveNewtonSchulz(), GENERAL_MATMUL_CAPABILITIES));
  });

  it('plans the plain iteration for float16 products under auto, as for bfloat16', () => {
    const float16 = resolveNewtonSchulz({ precision: 'float16' });
    const withFloat16 = { symmetricProductsAtHalfCost: false, bfloat16Products: false, float16Products: true };
    expect(planOrthogonalization(768, 3072, float16, withFloat16).algorithm).toBe('plain');
    expect(planOrthogonalization(768, 3072, float16, withFloat16, 'gram').algorithm).toBe('gram');
    expect(planOrthogonalization(768, 3072, float16, GENERAL_MATMUL_CAPABILITIES)).toEqual(planOrthogonalization(768, 3072, resolveNewtonSchulz(), GENERAL_MATMUL_CAPABILITIES));
  });

  it('rejects an unknown algorithm, naming it', () => {
    expect(() => planOrthogonalization(4, 4, resolveNewtonSchulz(), SYRK, 'fast' as NewtonSchulzAlgorithm)).toThrow(/"fast"/);
    expect(() => orthogonalizationPlanner(SYRK, 'fast' as NewtonSchulzAlgorithm)).toThrow(/"fast"/);
  });
});

describe('orthogonalizationPlanner', () => {
  it('plans each shape once per schedule and serves the same frozen plan afterwards', () => {
    const planner = orthogonalizationPlanner(SYRK);
    const jordan = resolveNewtonSchulz();
    const first = planner(768, 3072, jordan);
    expect(planner(768, 3072, jordan)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(first).toEqual(planOrthogonalization(768, 3072, jordan, SYRK));
    // Another schedule is planned on its own (polarExpress8 stays plain on the same shape).
    expect(planner(768, 3072, resolveNewtonSchulz({ coefficients: 'polarExpress8', restartAfter: [3, 6] })).algorithm).toBe('plain');
    expect(planner(3072, 768, jordan)).not.toBe(first);
  });
});
