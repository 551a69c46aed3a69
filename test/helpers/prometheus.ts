// A strict reader of the Prometheus text exposition format 0.0.4, enough to prove our output parses:
// every sample belongs to a family declared by HELP/TYPE, label syntax and escapes are valid, values
// are numbers, histogram buckets are cumulative and end with +Inf equal to _count.
export type Sample = { name: string; labels: Record<string, string>; value: number }
export type Family = { type: string; help: string; samples: Sample[] }

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {}
  const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\["\\n])*)"(,|$)/gy
  let match: RegExpExecArray | null
  let consumed = 0
  while ((match = re.exec(text))) {
    labels[match[1]!] = match[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\')
    consumed = re.lastIndex
    if (match[3] === '') break
  }
  if (consumed !== text.length) throw new Error(`bad labels: {${text}}`)
  return labels
}

export function parsePrometheus(text: string): Map<string, Family> {
  if (!text.endsWith('\n')) throw new Error('exposition must end with a newline')
  const families = new Map<string, Family>()
  for (const line of text.split('\n').filter(Boolean)) {
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line)
    if (meta) {
      const [, kind, name, rest] = meta
      if (!NAME.test(name!)) throw new Error(`bad metric name ${name}`)
      const family = families.get(name!) ?? { type: '', help: '', samples: [] }
      if (kind === 'TYPE') family.type = rest!
      else family.help = rest!
      families.set(name!, family)
      continue
    }
    const sample = SAMPLE.exec(line)
    if (!sample) throw new Error(`bad sample line: ${line}`)
    const [, name, labelText, raw] = sample
    const base = name!.replace(/_(bucket|sum|count)$/, '')
    const family = families.get(name!) ?? families.get(base)
    if (!family) throw new Error(`sample without TYPE: ${name}`)
    const value = raw === '+Inf' ? Infinity : Number(raw)
    if (Number.isNaN(value)) throw new Error(`bad value: ${line}`)
    family.samples.push({ name: name!, labels: labelText ? parseLabels(labelText) : {}, value })
  }
  for (const [name, family] of families) {
    if (family.type !== 'histogram') continue
    const series = new Map<string, Sample[]>()
    for (const s of family.samples.filter((s) => s.name === `${name}_bucket`)) {
      const { le, ...rest } = s.labels
      const id = JSON.stringify(rest)
      series.set(id, [...(series.get(id) ?? []), s])
    }
    for (const [id, buckets] of series) {
      for (let i = 1; i < buckets.length; i++)
        if (buckets[i]!.value < buckets[i - 1]!.value) throw new Error(`non-cumulative buckets ${id}`)
      const last = buckets.at(-1)!
      if (last.labels.le !== '+Inf') throw new Error(`histogram ${name} without +Inf`)
      const count = family.samples.find((s) => s.name === `${name}_count` && JSON.stringify(s.labels) === id)
      if (count?.value !== last.value) throw new Error(`+Inf bucket != _count for ${id}`)
    }
  }
  return families
}
