/**
 * A dependency-free SVG writer for benchmark results: panels of horizontal
 * bars stacked vertically, each panel with its own linear scale, so a
 * throughput panel and a latency panel can share one file.
 */

/** One bar. */
export interface Bar {
  label: string;
  value: number;
  /** Highlighted bars (the library's cases) are drawn in the accent colour, the rest (baselines) in grey. */
  highlight?: boolean;
}

/** One panel: a title, a unit for the value labels, and its bars. */
export interface Panel {
  title: string;
  unit: string;
  bars: Bar[];
  /** Optional dashed marker, e.g. a target: drawn at `value` with `label`. */
  marker?: { value: number; label: string };
}

const WIDTH = 860;
const LABEL_W = 300;
const BAR_W = 420;
const ROW_H = 26;
const TITLE_H = 34;
const GAP = 18;

function esc(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function fmt(value: number): string {
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

function panelSvg(p: Panel, y0: number): { svg: string; height: number } {
  const max = Math.max(...p.bars.map((b) => b.value), p.marker?.value ?? 0) || 1;
  const scale = BAR_W / max;
  const out: string[] = [`<text x="10" y="${y0 + 22}" class="title">${esc(p.title)}</text>`];
  p.bars.forEach((b, i) => {
    const y = y0 + TITLE_H + i * ROW_H;
    const w = Math.max(1, b.value * scale);
    out.push(
      `<text x="${LABEL_W - 8}" y="${y + 17}" class="label" text-anchor="end">${esc(b.label)}</text>`,
      `<rect x="${LABEL_W}" y="${y + 4}" width="${w.toFixed(1)}" height="${ROW_H - 8}" class="${b.highlight ? "log" : "base"}"/>`,
      `<text x="${(LABEL_W + w + 6).toFixed(1)}" y="${y + 17}" class="value">${esc(`${fmt(b.value)} ${p.unit}`)}</text>`,
    );
  });
  const height = TITLE_H + p.bars.length * ROW_H;
  if (p.marker) {
    const x = (LABEL_W + p.marker.value * scale).toFixed(1);
    out.push(
      `<line x1="${x}" y1="${y0 + TITLE_H - 4}" x2="${x}" y2="${y0 + height}" class="marker"/>`,
      `<text x="${x}" y="${y0 + TITLE_H - 8}" class="mlabel" text-anchor="middle">${esc(p.marker.label)}</text>`,
    );
  }
  return { svg: out.join("\n"), height };
}

/**
 * Renders `panels` as one SVG document with a heading and a footnote.
 * Values are drawn as given; pick units that make every panel readable.
 */
export function barChartSvg(heading: string, panels: Panel[], footnote = ""): string {
  const parts: string[] = [];
  let y = 40;
  for (const p of panels) {
    const { svg, height } = panelSvg(p, y);
    parts.push(svg);
    y += height + GAP;
  }
  const height = y + (footnote ? 24 : 0);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, sans-serif">`,
    `<style>.title{font-size:15px;font-weight:600}.label,.value{font-size:12px}.mlabel{font-size:11px;fill:#c53030}.log{fill:#2b6cb0}.base{fill:#a0aec0}.marker{stroke:#c53030;stroke-dasharray:4 3}.note{font-size:11px;fill:#4a5568}</style>`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="24" font-size="17" font-weight="700">${esc(heading)}</text>`,
    ...parts,
    footnote ? `<text x="10" y="${height - 10}" class="note">${esc(footnote)}</text>` : "",
    `</svg>`,
    "",
  ].join("\n");
}
