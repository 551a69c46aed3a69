// Tiny inline-SVG bar charts (no libraries): vertical bars for a time series, horizontal for categories.
const NS = 'http://www.w3.org/2000/svg'

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag)
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v)
  for (const c of children) el.append(c instanceof Node ? c : String(c))
  return el
}

/** Four gridline steps of 1/2/5 x 10^n, so every tick is a round value (no 2.5 that rounds unevenly). */
function niceMax(v) {
  if (!(v > 0)) return 4
  const quarter = v / 4
  const p = 10 ** Math.floor(Math.log10(quarter))
  return 4 * [1, 2, 5, 10].map((m) => m * p).find((m) => m >= quarter)
}

const W = 960

/**
 * items: [{label, value, tip}] in display order; axis(v) formats tick labels.
 */
export function columnChart(items, { axis, height = 190, testid }) {
  const max = niceMax(Math.max(0, ...items.map((i) => i.value)))
  // Room for the widest tick label (~7 px a character at the tick font size).
  const widest = Math.max(...[0, 1, 2, 3, 4].map((g) => String(axis((max * g) / 4)).length))
  const pad = { l: Math.max(40, 12 + widest * 7), r: 8, t: 10, b: 26 }
  const pw = W - pad.l - pad.r
  const ph = height - pad.t - pad.b
  const svg = s('svg', { viewBox: `0 0 ${W} ${height}`, class: 'chart', role: 'img', 'data-testid': testid })
  for (let g = 0; g <= 4; g++) {
    const y = pad.t + ph - (ph * g) / 4
    svg.append(
      s('line', { x1: pad.l, x2: W - pad.r, y1: y, y2: y, class: g ? 'grid' : 'axis' }),
      s('text', { x: pad.l - 8, y: y + 4, 'text-anchor': 'end', class: 'tick' }, axis((max * g) / 4)),
    )
  }
  const bw = pw / Math.max(items.length, 1)
  const every = Math.ceil(items.length / 15)
  items.forEach((it, i) => {
    const bh = (ph * it.value) / max
    const x = pad.l + i * bw
    svg.append(
      s(
        'rect',
        {
          x: x + bw * 0.15,
          y: pad.t + ph - bh,
          width: Math.max(bw * 0.7, 1),
          height: Math.max(bh, it.value > 0 ? 1 : 0),
          class: 'bar',
          rx: 2,
        },
        s('title', {}, it.tip),
      ),
    )
    if (i % every === 0) {
      svg.append(
        s('text', { x: x + bw / 2, y: height - 8, 'text-anchor': 'middle', class: 'tick' }, it.label),
      )
    }
  })
  return svg
}

export function barChart(items, { format, testid }) {
  const row = 24
  const labelW = 220
  const height = items.length * row + 8
  const max = Math.max(0, ...items.map((i) => i.value)) || 1
  const pw = W - labelW - 110
  const svg = s('svg', { viewBox: `0 0 ${W} ${height}`, class: 'chart', role: 'img', 'data-testid': testid })
  items.forEach((it, i) => {
    const y = 4 + i * row
    const bw = (pw * it.value) / max
    const label = it.label.length > 32 ? `${it.label.slice(0, 31)}…` : it.label
    svg.append(
      s('text', { x: labelW - 8, y: y + row / 2 + 4, 'text-anchor': 'end', class: 'label' }, label),
      s(
        'rect',
        {
          x: labelW,
          y: y + 3,
          width: Math.max(bw, it.value > 0 ? 1 : 0),
          height: row - 6,
          class: 'bar',
          rx: 2,
        },
        s('title', {}, it.tip),
      ),
      s('text', { x: labelW + bw + 6, y: y + row / 2 + 4, class: 'value' }, format(it.value)),
    )
  })
  return svg
}
