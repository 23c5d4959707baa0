/**
 * Summarises a .cpuprofile (from `bun --cpu-prof`): self and inclusive time per function, heaviest first.
 *
 *   bun --cpu-prof --cpu-prof-dir=bench/out bench/import-worker.ts ours <corpus> <db>
 *   bun bench/cpuprofile.ts bench/out/<file>.cpuprofile [--top 30] [--filter src/]
 *
 * Inclusive time counts each function once per sample, however deep it recurses.
 */
import { readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { parseArgs } from 'node:util'
import { fmt, repoRoot } from './lib'

type Node = {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}
type Profile = { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

export function summarise(profile: Profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const keyOf = (n: Node) => {
    // relative to the checkout, wherever it is (node_modules may be a link to another one)
    const url = n.callFrame.url.replace(/^file:\/\//, '').replace(/^\/.*?\/((?:src|bench|node_modules)\/)/, '$1')
    return `${n.callFrame.functionName || '(anonymous)'} ${url ? `${url}:${n.callFrame.lineNumber + 1}` : ''}`.trim()
  }
  const self = new Map<string, number>()
  const inclusive = new Map<string, number>()
  let total = 0
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0
    total += dt
    const node = byId.get(id)
    if (!node) return
    const k = keyOf(node)
    self.set(k, (self.get(k) ?? 0) + dt)
    const seen = new Set<string>()
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const n = byId.get(at)
      if (!n) break
      const key = keyOf(n)
      if (seen.has(key)) continue
      seen.add(key)
      inclusive.set(key, (inclusive.get(key) ?? 0) + dt)
    }
  })
  const sorted = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1])
  return { totalMs: total / 1000, self: sorted(self), inclusive: sorted(inclusive) }
}

export const profilesDir = join(repoRoot, 'bench/out/profiles')

/** The heaviest functions of a .cpuprofile, as Markdown. */
export function cpuProfileDetails(file: string, what: string, top = 15): string[] {
  const s = summarise(JSON.parse(readFileSync(file, 'utf8')))
  const rows = (list: [string, number][]) =>
    list
      .slice(0, top)
      .map(
        ([k, us]) =>
          `| \`${k.replaceAll('|', '\\|')}\` | ${fmt(us / 1e6, 2)} | ${fmt((100 * us) / 1000 / s.totalMs, 1)} |`,
      )
  return [
    `### CPU profile: ${what} (${fmt(s.totalMs / 1000, 1)} s sampled; \`${relative(repoRoot, file)}\`)`,
    '',
    '| function (self time) | s | % |',
    '|---|---|---|',
    ...rows(s.self),
    '',
    '| function (inclusive time, src/ only) | s | % |',
    '|---|---|---|',
    ...rows(s.inclusive.filter(([k]) => k.includes('src/'))),
  ]
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '30' }, filter: { type: 'string' } },
  })
  const file = positionals[0]
  if (!file) {
    console.error('usage: bun bench/cpuprofile.ts FILE.cpuprofile [--top 30] [--filter TEXT]')
    process.exit(2)
  }
  const s = summarise(JSON.parse(readFileSync(file, 'utf8')) as Profile)
  const top = Number(values.top)
  const keep = ([k]: [string, number]) => !values.filter || k.includes(values.filter)
  const show = (title: string, rows: [string, number][]) => {
    console.log(`\n${title}`)
    for (const [k, us] of rows.filter(keep).slice(0, top))
      console.log(
        `${(us / 1000).toFixed(0).padStart(8)} ms ${((100 * us) / 1000 / s.totalMs).toFixed(1).padStart(5)} %  ${k}`,
      )
  }
  console.log(`sampled ${s.totalMs.toFixed(0)} ms`)
  show('self time', s.self)
  show('inclusive time', s.inclusive)
}
