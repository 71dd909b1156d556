// Loss curves as an SVG document (pure): one small panel per term, raw values faint, a moving
// average bold, each panel on its own scale. image/io.ts rasterises it to PNG.
export interface Series { readonly name: string; readonly values: readonly number[] }

const esc = (s: string): string => s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);

function movingAverage(v: readonly number[], k: number): number[] {
  const out: number[] = [];
  let sum = 0;
  for (let i = 0; i < v.length; i++) {
    sum += v[i]!;
    if (i >= k) sum -= v[i - k]!;
    out.push(sum / Math.min(i + 1, k));
  }
  return out;
}

export function lossPlotSvg(title: string, steps: readonly number[], series: readonly Series[]): string {
  const cols = 3, pw = 330, ph = 180, pad = 58, top = 40;
  const rows = Math.ceil(series.length / cols);
  const W = cols * pw, H = top + rows * ph;
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`, `<text x="12" y="26" font-size="18">${esc(title)}</text>`];
  series.forEach((s, i) => {
    const x0 = (i % cols) * pw + pad, y0 = top + Math.floor(i / cols) * ph + 24;
    const w = pw - pad - 12, h = ph - 56;
    const finite = s.values.filter(Number.isFinite);
    const lo = Math.min(...finite), hi = Math.max(...finite);
    const span = hi - lo || Math.abs(hi) || 1;
    const sx = (k: number): number => x0 + (w * (steps[k]! - steps[0]!)) / Math.max(1, steps[steps.length - 1]! - steps[0]!);
    const sy = (v: number): number => y0 + h - (h * (v - lo)) / span;
    const line = (v: readonly number[]): string => v.map((y, k) => `${sx(k).toFixed(1)},${sy(y).toFixed(1)}`).join(' ');
    parts.push(`<text x="${x0}" y="${y0 - 8}" font-size="13">${esc(s.name)}</text>`,
      `<rect x="${x0}" y="${y0}" width="${w}" height="${h}" fill="none" stroke="#999"/>`,
      `<text x="${x0 - 4}" y="${y0 + 10}" font-size="10" text-anchor="end">${hi.toPrecision(3)}</text>`,
      `<text x="${x0 - 4}" y="${y0 + h}" font-size="10" text-anchor="end">${lo.toPrecision(3)}</text>`,
      `<text x="${x0 + w}" y="${y0 + h + 14}" font-size="10" text-anchor="end">step ${steps[steps.length - 1] ?? 0}</text>`);
    if (s.values.length > 1) {
      parts.push(`<polyline points="${line(s.values)}" fill="none" stroke="#9ab" stroke-width="1"/>`,
        `<polyline points="${line(movingAverage(s.values, Math.max(1, Math.round(s.values.length / 25))))}" fill="none" stroke="#c30" stroke-width="2"/>`);
    }
  });
  parts.push('</svg>');
  return parts.join('\n');
}
