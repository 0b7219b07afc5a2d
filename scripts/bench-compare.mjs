#!/usr/bin/env node
// Summarises the runs of scripts/bench-before-after.sh: for each headline figure of the libav and
// eval benches, its value in every round on each side, the median of the paired ratios (after over
// before, round by round, so that a machine whose speed drifts during the script weighs on both
// sides of each pair), and the noise: the largest spread of one side's own rounds (max / min - 1).
// A figure is within noise when its paired median differs from 1 by no more than that spread.
//
//   node scripts/bench-compare.mjs DIR
//
// DIR holds one file per run, named BENCH-SIDE-ROUND.txt (SIDE is before or after), as the shell
// script writes them.
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"

/** The figures read from each bench's output: a label, the pattern of its number, and its direction. */
const figures = {
  libav: [
    { label: "LibavDecoder 2 loaders, clips/s", pattern: /LibavDecoder, 2 loaders, maxSize 4\s+([\d.]+)/, higher: true },
    { label: "LibavDecoder 2 loaders / Python design", pattern: /LibavDecoder 2 loaders \/ Python design: ([\d.]+)x/, higher: true },
    { label: "LibavDecoder 2 loaders / 1 loader", pattern: /LibavDecoder 2 loaders \/ 1 loader: ([\d.]+)x/, higher: true },
    { label: "Evaluator with flickering / Python design", pattern: /temporal flickering on the consumer: .*: ([\d.]+)x/, higher: true }
  ],
  eval: [
    { label: "sequential loop, s", pattern: /sequential decode-then-score loop \(baseline\), best of \d+: ([\d.]+) s/, higher: false },
    { label: "Evaluator workers=1, s", pattern: /Evaluator workers=1, best of \d+: ([\d.]+) s/, higher: false },
    { label: "Evaluator workers=1 / sequential", pattern: /Evaluator workers=1, best of .*?([\d.]+)x faster than sequential/, higher: true },
    { label: "Evaluator workers=2, s", pattern: /Evaluator workers=2, best of \d+: ([\d.]+) s/, higher: false },
    { label: "Evaluator workers=2 / sequential", pattern: /Evaluator workers=2, best of .*?([\d.]+)x faster than sequential/, higher: true }
  ]
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}
const spread = (values) => (values.length < 2 ? 0 : Math.max(...values) / Math.min(...values) - 1)
const percent = (x) => `${(x * 100).toFixed(1)}%`

const dir = process.argv[2]
if (dir === undefined) {
  console.error("usage: node scripts/bench-compare.mjs DIR")
  process.exit(2)
}
const runs = new Map() // "bench side" -> Map(round -> text)
let names
try {
  names = readdirSync(dir)
} catch (error) {
  console.error(`cannot read the runs in ${dir}: ${error.message}`)
  process.exit(2)
}
for (const name of names) {
  const match = /^(\w+)-(before|after)-(\d+)\.txt$/.exec(name)
  if (match === null) continue
  const key = `${match[1]} ${match[2]}`
  if (!runs.has(key)) runs.set(key, new Map())
  runs.get(key).set(Number(match[3]), readFileSync(join(dir, name), "utf8"))
}

let compared = 0
for (const [bench, list] of Object.entries(figures)) {
  const before = runs.get(`${bench} before`)
  const after = runs.get(`${bench} after`)
  if (before === undefined || after === undefined) continue
  const rounds = [...before.keys()].filter((r) => after.has(r)).sort((a, b) => a - b)
  if (rounds.length === 0) {
    console.log(`\n${bench}: no round has both a before and an after run`)
    continue
  }
  compared++
  console.log(`\n${bench}: ${rounds.length} paired rounds (after / before per round; noise = the larger spread of one side's own rounds)`)
  for (const { higher, label, pattern } of list) {
    // The figures as printed (trailing zeros kept), and their values.
    const read = (runsOf) => rounds.map((r) => pattern.exec(runsOf.get(r))?.[1])
    const b = read(before)
    const a = read(after)
    if ([...a, ...b].some((x) => x === undefined)) {
      console.log(`  ${label}: not in every run`)
      continue
    }
    const ratio = median(a.map((x, i) => Number(x) / Number(b[i])))
    const noise = Math.max(spread(a.map(Number)), spread(b.map(Number)))
    const better = higher ? ratio > 1 : ratio < 1
    const verdict = rounds.length < 2
      ? "noise unknown (one round), no verdict"
      : `noise ${percent(noise)}: ${Math.abs(ratio - 1) <= noise ? "within noise" : better ? "better after" : "WORSE after"}`
    console.log(`  ${label}: before ${b.join(", ")}; after ${a.join(", ")}; paired median ${ratio.toFixed(3)}, ${verdict}`)
  }
}
if (compared === 0) {
  console.error(`no pair of before and after runs in ${dir} (files named BENCH-before-ROUND.txt and BENCH-after-ROUND.txt)`)
  process.exit(1)
}
