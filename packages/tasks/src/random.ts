/**
 * A small seeded pseudo-random generator for everything the benchmark draws at random:
 * weight initialization, shuffles, data splits and text windows. Math.random is never used, so
 * two runs with the same seed draw the same numbers on every platform.
 */

/** A seeded random stream: `next()` in [0, 1), `normal()` standard normal, `int(n)` in [0, n). */
export interface Random {
  next(): number;
  normal(): number;
  int(n: number): number;
}

/**
 * mulberry32 (Tommy Ettinger's 32-bit generator): tiny, fast, good enough for shuffles and
 * initialization, and exactly reproducible in JavaScript's 32-bit integer arithmetic.
 *
 * @example
 * const r = createRandom(42); r.next(); // always the same first number for seed 42
 */
export function createRandom(seed: number): Random {
  let state = (seed >>> 0) ^ 0x9e3779b9;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  let spare: number | undefined;
  const normal = (): number => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    // Box-Muller; 1 - u keeps the logarithm finite.
    const u = 1 - next();
    const v = next();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
  return { next, normal, int: (n: number) => Math.floor(next() * n) };
}

/** Derives an independent seed for a named purpose ("init", "shuffle", ...) from a run seed. */
export function deriveSeed(seed: number, purpose: string): number {
  // FNV-1a over the purpose, mixed with the seed.
  let h = 0x811c9dc5 ^ (seed >>> 0);
  for (let i = 0; i < purpose.length; i++) {
    h = Math.imul(h ^ purpose.charCodeAt(i), 0x01000193);
  }
  return h >>> 0;
}

/** A seeded Fisher-Yates permutation of 0..n-1. */
export function permutation(n: number, random: Random): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = random.int(i + 1);
    const t = p[i] as number;
    p[i] = p[j] as number;
    p[j] = t;
  }
  return p;
}
