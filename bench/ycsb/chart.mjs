/**
 * A standalone SVG chart of one YCSB run's timeline: two stacked panels sharing the time axis —
 * throughput (ops/s, linear, with errors/s when there were any) and latency percentiles (p50,
 * p99, p99.9; log scale, 1 µs … 60 s). No dependencies; the output opens in any browser.
 *
 * Input: the `timeline` of Measurements (points with tSec, opsPerSec, errors, intervalSec,
 * p50Us, p99Us, p999Us; a null percentile = no successful operation in that second, drawn as a
 * gap). All text is XML-escaped. Bounds: one path vertex per timeline point per series, and the
 * timeline itself is capped by Measurements.
 */

const WIDTH = 960;
const PANEL_HEIGHT = 250;
const MARGIN = { left: 80, right: 150, top: 70, gap: 60, bottom: 50 };
const PLOT_WIDTH = WIDTH - MARGIN.left - MARGIN.right;
const HEIGHT = MARGIN.top + PANEL_HEIGHT * 2 + MARGIN.gap + MARGIN.bottom;
const COLORS = { throughput: '#1f77b4', errors: '#d62728', p50: '#2ca02c', p99: '#ff7f0e', p999: '#d62728', grid: '#e5e5e5', axis: '#333', text: '#222' };

/** Escapes text for XML content and attribute values. */
export function escapeXml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]);
}

/** Ticks at 1, 2 or 5 × 10^k covering [0, max], about `count` of them. */
function linearTicks(max, count) {
  const safeMax = max > 0 ? max : 1;
  const raw = safeMax / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  const top = Math.ceil(safeMax / step - 1e-9) * step;
  const ticks = [];
  for (let v = 0; v <= top + step / 2; v += step) ticks.push(Number(v.toPrecision(12)));
  return { ticks, top };
}

function fmtNumber(n) {
  const a = Math.abs(n);
  if (a >= 1e6) return `${Number((n / 1e6).toPrecision(3))}M`;
  if (a >= 1e3) return `${Number((n / 1e3).toPrecision(3))}k`;
  return `${Number(n.toPrecision(3))}`;
}

function fmtLatencyUs(us) {
  if (us >= 1e6) return `${us / 1e6} s`;
  if (us >= 1e3) return `${us / 1e3} ms`;
  return `${us} µs`;
}

function fmtSeconds(s) {
  return `${Number(s.toPrecision(6))}`;
}

/** An SVG path through the points, broken where y is null. */
function pathOf(points) {
  let d = '';
  let pen = false;
  for (const [x, y] of points) {
    if (y == null || !Number.isFinite(y)) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${x.toFixed(1)},${y.toFixed(1)}`;
    pen = true;
  }
  return d;
}

function line(points, color, { width = 1.5, dash = '' } = {}) {
  const d = pathOf(points);
  if (!d) return '';
  const dots = points.length === 1 && points[0][1] != null ? `<circle cx="${points[0][0].toFixed(1)}" cy="${points[0][1].toFixed(1)}" r="3" fill="${color}"/>` : '';
  return `<path d="${d}" fill="none" stroke="${color}" stroke-width="${width}"${dash ? ` stroke-dasharray="${dash}"` : ''} stroke-linejoin="round"/>${dots}`;
}

function legend(x, y, entries) {
  return entries
    .map(([label, color], i) => {
      const ly = y + i * 20;
      return `<line x1="${x}" y1="${ly}" x2="${x + 22}" y2="${ly}" stroke="${color}" stroke-width="2.5"/><text x="${x + 28}" y="${ly + 4}" font-size="12" fill="${COLORS.text}">${escapeXml(label)}</text>`;
    })
    .join('');
}

function panelFrame(top, title) {
  return (
    `<rect x="${MARGIN.left}" y="${top}" width="${PLOT_WIDTH}" height="${PANEL_HEIGHT}" fill="none" stroke="${COLORS.axis}" stroke-width="1"/>` +
    `<text x="${MARGIN.left}" y="${top - 8}" font-size="13" font-weight="bold" fill="${COLORS.text}">${escapeXml(title)}</text>`
  );
}

function timeAxis(top, xOf, timeTicks) {
  const bottom = top + PANEL_HEIGHT;
  return timeTicks
    .map((t) => {
      const x = xOf(t).toFixed(1);
      return `<line x1="${x}" y1="${top}" x2="${x}" y2="${bottom}" stroke="${COLORS.grid}"/><line x1="${x}" y1="${bottom}" x2="${x}" y2="${bottom + 5}" stroke="${COLORS.axis}"/><text x="${x}" y="${bottom + 18}" font-size="11" text-anchor="middle" fill="${COLORS.text}">${fmtSeconds(t)}</text>`;
    })
    .join('');
}

function yGrid(yOf, ticks, label, left) {
  return ticks
    .map((v) => {
      const y = yOf(v).toFixed(1);
      return `<line x1="${left}" y1="${y}" x2="${left + PLOT_WIDTH}" y2="${y}" stroke="${COLORS.grid}"/><line x1="${left - 5}" y1="${y}" x2="${left}" y2="${y}" stroke="${COLORS.axis}"/><text x="${left - 8}" y="${(Number(y) + 4).toFixed(1)}" font-size="11" text-anchor="end" fill="${COLORS.text}">${escapeXml(label(v))}</text>`;
    })
    .join('');
}

function throughputPanel(top, timeline, xOf, timeTicks) {
  const errorRates = timeline.map((p) => (p.intervalSec > 0 ? (p.errors ?? 0) / p.intervalSec : 0));
  const hasErrors = errorRates.some((r) => r > 0);
  const max = Math.max(0, ...timeline.map((p) => p.opsPerSec ?? 0), ...errorRates);
  const { ticks, top: yMax } = linearTicks(max, 5);
  const yOf = (v) => top + PANEL_HEIGHT - (v / yMax) * PANEL_HEIGHT;
  const series = [line(timeline.map((p) => [xOf(p.tSec), yOf(p.opsPerSec ?? 0)]), COLORS.throughput, { width: 2 })];
  const entries = [['ops/s', COLORS.throughput]];
  if (hasErrors) {
    series.push(line(timeline.map((p, i) => [xOf(p.tSec), yOf(errorRates[i])]), COLORS.errors, { dash: '4 3' }));
    entries.push(['errors/s', COLORS.errors]);
  }
  return (
    `<g class="panel throughput">` +
    timeAxis(top, xOf, timeTicks) +
    yGrid(yOf, ticks, fmtNumber, MARGIN.left) +
    panelFrame(top, 'Throughput (ops/s)') +
    series.join('') +
    legend(MARGIN.left + PLOT_WIDTH + 16, top + 14, entries) +
    `</g>`
  );
}

function latencyPanel(top, timeline, xOf, timeTicks) {
  const values = timeline.flatMap((p) => [p.p50Us, p.p99Us, p.p999Us]).filter((v) => v != null && Number.isFinite(v) && v > 0);
  const lowDecade = values.length ? Math.floor(Math.log10(Math.min(...values))) : 2;
  let highDecade = values.length ? Math.ceil(Math.log10(Math.max(...values))) : 5;
  if (highDecade <= lowDecade) highDecade = lowDecade + 1;
  const yOf = (us) => top + PANEL_HEIGHT - ((Math.log10(us) - lowDecade) / (highDecade - lowDecade)) * PANEL_HEIGHT;
  const decades = [];
  for (let d = lowDecade; d <= highDecade; d++) decades.push(10 ** d);
  // Faint 2× and 5× lines make a log axis readable without crowding the labels.
  const minor = decades.slice(0, -1).flatMap((v) => [2 * v, 5 * v]);
  const minorLines = minor.map((v) => `<line x1="${MARGIN.left}" y1="${yOf(v).toFixed(1)}" x2="${MARGIN.left + PLOT_WIDTH}" y2="${yOf(v).toFixed(1)}" stroke="${COLORS.grid}" stroke-dasharray="2 3"/>`).join('');
  const at = (key) => timeline.map((p) => [xOf(p.tSec), p[key] != null && p[key] > 0 ? yOf(p[key]) : null]);
  return (
    `<g class="panel latency">` +
    timeAxis(top, xOf, timeTicks) +
    minorLines +
    yGrid(yOf, decades, fmtLatencyUs, MARGIN.left) +
    panelFrame(top, 'Latency percentiles (log scale)') +
    line(at('p50Us'), COLORS.p50) +
    line(at('p99Us'), COLORS.p99) +
    line(at('p999Us'), COLORS.p999) +
    legend(MARGIN.left + PLOT_WIDTH + 16, top + 14, [
      ['p50', COLORS.p50],
      ['p99', COLORS.p99],
      ['p99.9', COLORS.p999],
    ]) +
    `<text x="${MARGIN.left + PLOT_WIDTH / 2}" y="${top + PANEL_HEIGHT + 40}" font-size="12" text-anchor="middle" fill="${COLORS.text}">time since start (s)</text>` +
    `</g>`
  );
}

/**
 * @param {{ title: string, subtitle?: string, timeline: Array<{ tSec: number, opsPerSec: number, errors?: number, intervalSec?: number, p50Us: number | null, p99Us: number | null, p999Us: number | null }> }} opts
 * @returns {string} a standalone SVG document
 */
export function renderChartSvg({ title, subtitle = '', timeline }) {
  const points = (timeline ?? []).filter((p) => p && Number.isFinite(p.tSec));
  const tMax = Math.max(1, ...points.map((p) => p.tSec));
  const { ticks: timeTicks, top: xMax } = linearTicks(tMax, 10);
  const xOf = (t) => MARGIN.left + (t / xMax) * PLOT_WIDTH;
  const throughputTop = MARGIN.top;
  const latencyTop = MARGIN.top + PANEL_HEIGHT + MARGIN.gap;
  const empty = points.length === 0 ? `<text x="${MARGIN.left + PLOT_WIDTH / 2}" y="${throughputTop + PANEL_HEIGHT / 2}" font-size="14" text-anchor="middle" fill="#888">no data</text>` : '';
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#fff"/>`,
    `<text x="${MARGIN.left}" y="28" font-size="18" font-weight="bold" fill="${COLORS.text}">${escapeXml(title)}</text>`,
    subtitle ? `<text x="${MARGIN.left}" y="48" font-size="12" fill="#555">${escapeXml(subtitle)}</text>` : '',
    throughputPanel(throughputTop, points, xOf, timeTicks),
    latencyPanel(latencyTop, points, xOf, timeTicks),
    empty,
    `</svg>`,
    '',
  ].join('\n');
}
