/** One line of a plot. */
export interface Series {
  label: string;
  color: string;
  x: readonly number[];
  y: readonly number[];
  /** Draw the points as dots, without a line (measurements). */
  markers?: boolean;
  /** Draw the line dashed (fits, references). */
  dashed?: boolean;
}

/** Options of {@link svgLinePlot}. */
export interface PlotOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly Series[];
  /** Logarithmic y axis (losses). */
  logY?: boolean;
  width?: number;
  height?: number;
  /** Put the legend in a column of this many pixels right of the plot instead of inside it. */
  legendWidth?: number;
}

const escapeXml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** About five round tick values covering [lo, hi]. */
function linearTicks(lo: number, hi: number): number[] {
  const span = hi - lo || Math.abs(hi) || 1;
  const raw = span / 5;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude);
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1000 || a < 0.01 ? v.toExponential(0) : Number(v.toPrecision(3)).toString();
}

/**
 * A self-contained SVG line plot (no scripts, no external fonts), readable on light and dark
 * backgrounds because it draws its own white background.
 */
export function svgLinePlot(options: PlotOptions): string {
  const width = options.width ?? 640;
  const height = options.height ?? 400;
  const legendWidth = options.legendWidth ?? 0;
  const m = { left: 64, right: 16 + legendWidth, top: 36, bottom: 48 };
  const logY = options.logY ?? false;
  const points = options.series.flatMap((s) => s.x.map((x, i) => [x, s.y[i] as number] as const))
    .filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!logY || y > 0));
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => (logY ? Math.log10(p[1]) : p[1]));
  const xMin = xs.length ? Math.min(...xs) : 0;
  const xMax = xs.length ? Math.max(...xs) : 1;
  let yMin = ys.length ? Math.min(...ys) : 0;
  let yMax = ys.length ? Math.max(...ys) : 1;
  if (yMax - yMin < 1e-9) {
    yMin -= 0.5;
    yMax += 0.5;
  }
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;
  const sx = (x: number): number => m.left + ((x - xMin) / (xMax - xMin || 1)) * pw;
  const sy = (y: number): number => m.top + (1 - ((logY ? Math.log10(y) : y) - yMin) / (yMax - yMin)) * ph;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  out.push(`<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">${escapeXml(options.title)}</text>`);
  // y ticks: decades and their 2× and 5× on a log axis, round numbers otherwise.
  const yTicks = logY
    ? linearTicks(yMin, yMax).length >= 3 && yMax - yMin > 1
      ? linearTicks(Math.floor(yMin), Math.ceil(yMax)).filter((t) => Number.isInteger(t)).map((t) => 10 ** t)
      : linearTicks(10 ** yMin, 10 ** yMax).filter((t) => t > 0)
    : linearTicks(yMin, yMax);
  for (const t of yTicks) {
    const y = sy(t);
    if (y < m.top - 0.5 || y > m.top + ph + 0.5) continue;
    out.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#ddd"/>`);
    out.push(`<text x="${m.left - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end">${formatTick(t)}</text>`);
  }
  for (const t of linearTicks(xMin, xMax)) {
    const x = sx(t);
    if (x < m.left - 0.5 || x > m.left + pw + 0.5) continue;
    out.push(`<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${m.top}" y2="${m.top + ph}" stroke="#eee"/>`);
    out.push(`<text x="${x.toFixed(1)}" y="${m.top + ph + 16}" text-anchor="middle">${formatTick(t)}</text>`);
  }
  out.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#444"/>`);
  out.push(`<text x="${m.left + pw / 2}" y="${height - 10}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`);
  out.push(`<text transform="translate(16 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}${logY ? ' (log scale)' : ''}</text>`);
  options.series.forEach((s, k) => {
    const visible = s.x.map((x, i) => [x, s.y[i] as number] as const)
      .filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!logY || y > 0));
    const dash = s.dashed === true ? ' stroke-dasharray="6 4"' : '';
    if (s.markers === true) {
      for (const [x, y] of visible) out.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3.5" fill="${s.color}"/>`);
    } else {
      const d = visible.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join('');
      if (d) out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.8"${dash}/>`);
    }
    const ly = m.top + 14 + 16 * k;
    const lx = legendWidth > 0 ? m.left + pw + 12 : m.left + pw - 150;
    if (s.markers === true) {
      out.push(`<circle cx="${lx + 11}" cy="${ly - 4}" r="3.5" fill="${s.color}"/>`);
    } else {
      out.push(`<line x1="${lx}" x2="${lx + 22}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2.5"${dash}/>`);
    }
    out.push(`<text x="${lx + 28}" y="${ly}">${escapeXml(s.label)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
