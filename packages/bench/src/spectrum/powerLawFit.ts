/** A fitted power law y = C·x^(−α) with its uncertainty. */
export interface PowerLawFit {
  /** The exponent α of y ∝ x^(−α) (minus the log–log slope). */
  readonly alpha: number;
  /** Standard error of α from the least-squares residuals (NaN with fewer than 3 points). */
  readonly standardError: number;
  /** ln C. */
  readonly logIntercept: number;
  /** Number of points fitted. */
  readonly points: number;
}

/**
 * Ordinary least squares of ln y = ln C − α·ln x, the fit arXiv 2606.04058 reports for the
 * stabilized singular-value quantiles against model size (σ_q ∝ M^(−α)). The standard error is the
 * textbook one, √(s²/Σ(ln x − mean)²) with s² = Σ residual²/(n − 2): it assumes independent
 * residuals of equal variance in log space, which a few model sizes of one seed can only roughly
 * satisfy, so read it as the scale of the uncertainty, not as a calibrated interval.
 * Refused, naming the input: mismatched lengths, fewer than 2 points, non-positive or non-finite
 * values, all x equal.
 */
export function powerLawFit(x: readonly number[], y: readonly number[]): PowerLawFit {
  if (x.length !== y.length) throw new Error(`powerLawFit: x has ${x.length} values but y has ${y.length}`);
  if (x.length < 2) throw new Error(`powerLawFit: a fit needs at least 2 points, got ${x.length}`);
  const bad = [...x, ...y].find((v) => !(Number.isFinite(v) && v > 0));
  if (bad !== undefined) throw new Error(`powerLawFit: every x and y must be finite and positive (log–log fit), got ${bad}`);
  const lx = x.map(Math.log);
  const ly = y.map(Math.log);
  const n = lx.length;
  const mx = lx.reduce((a, v) => a + v, 0) / n;
  const my = ly.reduce((a, v) => a + v, 0) / n;
  let sxx = 0;
  let sxy = 0;
  lx.forEach((v, i) => {
    sxx += (v - mx) ** 2;
    sxy += (v - mx) * ((ly[i] as number) - my);
  });
  if (sxx === 0) throw new Error('powerLawFit: all x are equal, so no slope can be fitted');
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  const rss = lx.reduce((a, v, i) => a + ((ly[i] as number) - intercept - slope * v) ** 2, 0);
  const standardError = n > 2 ? Math.sqrt(rss / (n - 2) / sxx) : Number.NaN;
  return { alpha: -slope, standardError, logIntercept: intercept, points: n };
}
