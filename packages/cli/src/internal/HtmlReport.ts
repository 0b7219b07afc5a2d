/**
 * The HTML report of a run: one self-contained page (inline style, script, pictures and data; no
 * network) with the summary, a histogram per metric, the worst samples' frames beside their
 * references, every sample in a sortable, filterable table, and the recorded errors.
 *
 * @since 0.3.0
 */
import { decimalsFor, formatScore, shortNames, visible } from "../Format.ts"
import * as HtmlAssets from "./HtmlAssets.ts"
import { errorCount, type Report, type SampleOutcome } from "../Report.ts"
import { framesPerClip, type SamplePictures, type Strip, worseEnd, worst } from "./Thumbnails.ts"

/**
 * What the page shows besides the report: where the results came from, the pictures, and how
 * many samples per metric have them.
 *
 * @since 0.3.0
 * @category models
 */
export interface PageOptions {
  /** The results file, or the command that produced the run. */
  readonly source: string
  readonly worst: number
  readonly pictures: ReadonlyMap<number, SamplePictures>
  /** When the page was made (ISO 8601). */
  readonly made: string
}

const entities: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" }

/**
 * Text (a file name, a message) for HTML, as element content or an attribute value: `& < > " '`
 * escaped, and control characters shown as escapes (`visible`).
 *
 * @since 0.3.0
 * @category formatting
 */
export const escapeHtml = (text: string): string => visible(text).replace(/[&<>"']/g, (c) => entities[c])

/**
 * JSON for a `<script type="application/json">` element: nothing in it can close the element or
 * open a comment (`<`, `>` and `&` written as `\u` escapes, as are U+2028 and U+2029).
 *
 * @since 0.3.0
 * @category formatting
 */
export const scriptJson = (value: unknown): string =>
  JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)

const finite = (value: number | null | undefined): value is number => typeof value === "number" && Number.isFinite(value)

const scoreOf = (sample: SampleOutcome, metric: string): number | null => {
  const score = sample.metrics[metric]?.score
  return finite(score) ? score : null
}

/** The id of a sample's card in a metric's section. */
const cardId = (metric: number, index: number) => `m${metric}-s${index}`

const summarySection = (report: Report, options: PageOptions): string => {
  const n = report.samples.length
  const errors = errorCount(report.samples)
  const names = report.metrics.filter((name) => report.summary[name] !== undefined)
  const rows = names.map((name) => {
    const s = report.summary[name]
    const d = decimalsFor([s.mean, s.min, s.max])
    return `<tr><td class="mono">${escapeHtml(name)}</td><td class="num">${s.count}</td><td class="num">${formatScore(s.mean, d)}</td>` +
      `<td class="num">${formatScore(s.std, d)}</td><td class="num">${formatScore(s.min, d)}</td><td class="num">${formatScore(s.max, d)}</td>` +
      `<td class="muted">${worseEnd(name) === "low" ? "higher" : "lower"}</td></tr>`
  })
  const corpus = report.corpus.map((metric) =>
    `<tr><td class="mono">${escapeHtml(metric.name)}</td><td class="num">${formatScore(metric.score)}</td></tr>`
  )
  const settings = report.settings === undefined
    ? ""
    : `<p class="muted">decoder ${escapeHtml(report.settings.decoder)}${report.settings.ffmpeg === null ? "" : ` (FFmpeg ${escapeHtml(report.settings.ffmpeg)})`}; ` +
      `decode options ${escapeHtml(JSON.stringify(report.settings.decode))}</p>`
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`
  return `<h1>vidpool report</h1>
<p class="muted">From <span class="path">${escapeHtml(options.source)}</span>, made ${escapeHtml(options.made)}.</p>
${report.complete ? "" : `<p class="banner">Incomplete: ${n} of ${report.inputs.length} samples were evaluated before the run was interrupted.</p>`}
<p><strong>${n}</strong> sample${n === 1 ? "" : "s"}, <strong class="${errors > 0 ? "bad" : ""}">${errors}</strong> error${errors === 1 ? "" : "s"}; wall time ${seconds(report.timing.wallMs)}.</p>
${settings}
<h2 id="summary">Summary</h2>
${rows.length === 0 ? "<p class=\"muted\">No metric has a score.</p>" : `<table class="stats"><thead><tr><th>metric</th><th class="num">count</th><th class="num">mean</th><th class="num">std</th><th class="num">min</th><th class="num">max</th><th>better</th></tr></thead><tbody>${rows.join("")}</tbody></table>`}
${corpus.length === 0 ? "" : `<h3>Corpus metrics</h3><table class="stats"><thead><tr><th>metric</th><th class="num">score</th></tr></thead><tbody>${corpus.join("")}</tbody></table>`}`
}

const histBins = 24

/** A metric's histogram (SVG): the bars, and below them one tick per sample, the worst in red. */
const histogram = (report: Report, metric: string, m: number, worstSet: ReadonlySet<number>): string => {
  const scores = report.samples.map((s) => [s.index, scoreOf(s, metric)] as const).filter((p): p is readonly [number, number] => p[1] !== null)
  if (scores.length === 0) return `<figure class="hist"><figcaption class="mono">${escapeHtml(metric)}</figcaption><p class="muted">no scores</p></figure>`
  let lo = Infinity
  let hi = -Infinity
  for (const [, v] of scores) {
    lo = Math.min(lo, v)
    hi = Math.max(hi, v)
  }
  const width = 340
  const plotTop = 6
  const plotHeight = 70
  const span = hi - lo
  const bins = span > 0 ? histBins : 1
  const counts = new Array<number>(bins).fill(0)
  const binOf = (v: number) => span > 0 ? Math.min(bins - 1, Math.floor(((v - lo) / span) * bins)) : 0
  for (const [, v] of scores) counts[binOf(v)]++
  const most = Math.max(...counts)
  const barWidth = width / bins
  const d = decimalsFor([lo, hi])
  const bars = counts.map((count, i) => {
    const from = lo + (span * i) / bins
    const to = lo + (span * (i + 1)) / bins
    const h = most === 0 ? 0 : Math.max(count > 0 ? 1 : 0, Math.round((count / most) * plotHeight))
    const label = `${formatScore(from, d)} to ${formatScore(to, d)}`
    return `<rect class="bin" x="${(i * barWidth + 0.5).toFixed(1)}" y="${plotTop + plotHeight - h}" width="${Math.max(1, barWidth - 1).toFixed(1)}" height="${h}" ` +
      `data-metric="${m}" data-lo="${from}" data-hi="${to}" data-label="${label}"><title>${label}: ${count} sample${count === 1 ? "" : "s"}</title></rect>`
  }).join("")
  const x = (v: number) => (span > 0 ? ((v - lo) / span) * (width - 2) + 1 : width / 2).toFixed(1)
  const rugY = plotTop + plotHeight + 4
  let rug = ""
  let bad = ""
  for (const [index, v] of scores) {
    if (worstSet.has(index)) bad += `M${x(v)} ${rugY}v12`
    else rug += `M${x(v)} ${rugY}v8`
  }
  const axisY = rugY + 24
  return `<figure class="hist"><figcaption class="mono">${escapeHtml(metric)} <span class="muted">(${scores.length}; ${worseEnd(metric) === "low" ? "low" : "high"} is worse)</span></figcaption>
<svg width="${width}" height="${axisY + 4}" viewBox="0 0 ${width} ${axisY + 4}" role="img" aria-label="histogram of ${escapeHtml(metric)}">${bars}` +
    `<path class="rug" d="${rug}"/><path class="rug worst" d="${bad}"/>` +
    `<text class="axis" x="1" y="${axisY}">${formatScore(lo, d)}</text><text class="axis" x="${width - 1}" y="${axisY}" text-anchor="end">${formatScore(hi, d)}</text></svg></figure>`
}

/** The per-frame scores as a line, with the frames pictured marked (they are spread over the clip as the scores are). */
const perFramePlot = (values: ReadonlyArray<unknown>, metric: string, pictured: number): string => {
  const points = values.map((v) => typeof v === "number" && Number.isFinite(v) ? v : null)
  const finiteValues = points.filter((v): v is number => v !== null)
  if (finiteValues.length < 2) return ""
  const width = 240
  const height = 60
  const lo = Math.min(...finiteValues)
  const hi = Math.max(...finiteValues)
  const span = hi - lo
  const x = (i: number) => ((i / (points.length - 1)) * (width - 8) + 4).toFixed(1)
  const y = (v: number) => (span > 0 ? height - 6 - ((v - lo) / span) * (height - 14) : height / 2).toFixed(1)
  const line = points.map((v, i) => v === null ? "" : `${x(i)},${y(v)}`).filter((p) => p !== "").join(" ")
  const marks = Array.from({ length: pictured }, (_, k) => {
    const at = ((pictured === 1 ? 0 : k / (pictured - 1)) * (width - 8) + 4).toFixed(1)
    return `<line class="mark" x1="${at}" x2="${at}" y1="2" y2="${height - 2}"/>`
  }).join("")
  const d = decimalsFor([lo, hi])
  return `<svg class="plot" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(metric)} per frame">` +
    `<title>${escapeHtml(metric)} per frame: ${points.length} frames, ${formatScore(lo, d)} to ${formatScore(hi, d)}</title>` +
    `<rect x="0" y="0" width="${width}" height="${height}"/>${marks}<polyline points="${line}"/>` +
    `<text class="axis" x="3" y="10">${formatScore(hi, d)}</text><text class="axis" x="3" y="${height - 1}">${formatScore(lo, d)}</text></svg>`
}

const stripHtml = (label: string, strip: Strip | undefined, name: string): string => {
  if (strip === undefined) return ""
  const frames = strip._tag === "Missing"
    ? `<div class="bad">no frames: ${escapeHtml(strip.why)}</div>`
    : `<div class="strip">${strip.uris.map((uri, i) =>
      `<img src="${uri}" width="${strip.width}" height="${strip.height}" alt="${escapeHtml(`${label} frame ${i + 1} of ${strip.uris.length}: ${name}`)}">`
    ).join("")}</div>`
  return `<div class="label">${label}</div>${frames}`
}

/** A sample's card: its frames beside its reference's, and a line plot per metric with per-frame scores. */
const card = (report: Report, sample: SampleOutcome, id: string, heading: string, options: PageOptions): string => {
  const input = report.inputs[sample.index]
  const pictures = options.pictures.get(sample.index)
  const pictured = pictures?.video._tag === "Frames" ? pictures.video.uris.length : 0
  const plots = report.metrics.map((metric) => {
    const perFrame = sample.metrics[metric]?.details.perFrame
    const plot = Array.isArray(perFrame) ? perFramePlot(perFrame, metric, pictured) : ""
    return plot === "" ? "" : `<figure class="plot-box"><figcaption class="label">${escapeHtml(metric)} per frame</figcaption>${plot}</figure>`
  }).join("")
  const scores = report.metrics.map((metric) => `${escapeHtml(shortNames(report.metrics)[report.metrics.indexOf(metric)])} ${formatScore(sample.metrics[metric]?.score)}`)
  return `<article class="card" id="${id}"><header>${heading}` +
    `<span class="path">#${sample.index} ${escapeHtml(input?.video ?? "?")}</span>` +
    `<span class="mono muted">${scores.join(", ")}</span></header>` +
    (pictures === undefined
      ? `<p class="muted">no pictures</p>`
      : `<div class="strips">${stripHtml("video", pictures.video, input?.video ?? "")}` +
        `${stripHtml("reference", pictures.reference, input?.reference ?? "")}</div>`) +
    (plots === "" ? "" : `<div class="plots">${plots}</div><p class="label">dashed: where the frames shown are in the clip</p>`) +
    `</article>`
}

/**
 * The worst samples of each metric, a section per metric: a sample's card (its pictures) is in
 * the first section that has it; a later one links to it.
 */
const worstSection = (report: Report, firstCard: ReadonlyMap<number, string>, options: PageOptions): string => {
  if (options.worst === 0) return ""
  const placed = new Set<number>()
  const parts = report.metrics.map((metric, m) => {
    const chosen = worst(report.samples, metric, options.worst)
    if (chosen.length === 0) return ""
    const items = chosen.map((sample, rank) => {
      const heading = `<strong>${rank + 1}.</strong><span class="mono">${escapeHtml(shortNames(report.metrics)[m])} ${formatScore(sample.metrics[metric]?.score)}</span>`
      if (!placed.has(sample.index)) {
        placed.add(sample.index)
        return card(report, sample, firstCard.get(sample.index)!, heading, options)
      }
      return `<p class="again">${heading} <span class="path">#${sample.index} ${escapeHtml(report.inputs[sample.index]?.video ?? "?")}</span> ` +
        `<a href="#${firstCard.get(sample.index)!}">frames above</a></p>`
    }).join("\n")
    return `<section><h3 class="mono">${escapeHtml(metric)}: the ${chosen.length} ${worseEnd(metric) === "low" ? "lowest" : "highest"}</h3>\n${items}</section>`
  })
  return `<h2 id="worst">Worst samples</h2><p class="muted">${framesPerClip} frames spread over each clip, the video above its reference.</p>\n${parts.join("\n")}`
}

const tableSection = (report: Report, firstCard: ReadonlyMap<number, string>): string => {
  const hasReference = report.inputs.some((input) => input.reference !== undefined)
  const hasError = report.samples.some((sample) => sample.error !== undefined)
  const decimals = report.metrics.map((name) => decimalsFor(report.samples.map((s) => s.metrics[name]?.score)))
  const rows = report.samples.map((sample) => {
    const input = report.inputs[sample.index]
    return [
      sample.index,
      input?.video ?? "",
      input?.reference ?? null,
      report.metrics.map((name) => scoreOf(sample, name)),
      sample.error?.message ?? null,
      firstCard.get(sample.index) ?? null
    ]
  })
  const data = {
    hasReference,
    hasError,
    metrics: report.metrics.map((name, m) => ({ name, decimals: decimals[m] })),
    rows
  }
  const th = (key: string, title: string, numeric: boolean) =>
    `<th data-key="${key}"${numeric ? " class=\"num\"" : ""}${key === "index" ? " aria-sort=\"ascending\"" : ""}><button type="button">${title}</button></th>`
  const short = shortNames(report.metrics)
  const heads = [
    th("index", "#", true),
    th("video", "video", false),
    ...(hasReference ? [th("reference", "reference", false)] : []),
    ...report.metrics.map((name, m) => th(String(m), `<span title="${escapeHtml(name)}">${escapeHtml(short[m])}</span>`, true)),
    ...(hasError ? [th("error", "error", false)] : [])
  ]
  return `<h2 id="table">Samples</h2>
<div class="controls"><input type="search" id="filter" placeholder="Filter by file name or error" aria-label="Filter samples">
<label><input type="checkbox" id="only-errors"> errors only</label><span id="range" class="muted"></span><button type="button" id="clear-range" hidden>show every score</button>
<span id="shown" class="muted"></span><button type="button" id="show-all" hidden>show all</button></div>
<table id="samples"><thead><tr>${heads.join("")}</tr></thead><tbody></tbody></table>
<script type="application/json" id="vp-data">${scriptJson(data)}</script>`
}

const errorsSection = (report: Report): string => {
  const failed = report.samples.filter((sample) => sample.error !== undefined)
  if (failed.length === 0) return ""
  const items = failed.map((sample) =>
    `<li><span class="path">#${sample.index} ${escapeHtml(report.inputs[sample.index]?.video ?? "?")}</span>: ` +
    `<span class="bad">${escapeHtml(sample.error!.message)}</span></li>`
  )
  return `<h2 id="errors">Errors (${failed.length})</h2><ol class="errors">${items.join("")}</ol>`
}

/**
 * The whole page for a report.
 *
 * @since 0.3.0
 * @category rendering
 */
export const render = (report: Report, options: PageOptions): string => {
  const firstCard = new Map<number, string>()
  const worstSets = report.metrics.map((metric, m) => {
    const chosen = worst(report.samples, metric, options.worst)
    for (const sample of chosen) if (!firstCard.has(sample.index)) firstCard.set(sample.index, cardId(m, sample.index))
    return new Set(chosen.map((sample) => sample.index))
  })
  const hists = report.metrics.map((metric, m) => histogram(report, metric, m, worstSets[m])).join("\n")
  return `<!doctype html>
<!-- vidpool report: one self-contained page -->
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="vidpool">
<title>vidpool report: ${escapeHtml(options.source)}</title>
<style>${HtmlAssets.css}</style></head>
<body>
${summarySection(report, options)}
${report.metrics.length === 0 ? "" : `<h2 id="histograms">Scores</h2><p class="muted no-print">A tick under a histogram is a sample (red: the worst, pictured below); a click on a bar shows its samples in the table.</p><div class="hists">${hists}</div>`}
${worstSection(report, firstCard, options)}
${tableSection(report, firstCard)}
${errorsSection(report)}
<script>${HtmlAssets.script}</script>
</body></html>
`
}

/**
 * How the page opens: `OutputGuard` writes over a file only when it opens so.
 *
 * @since 0.3.0
 * @category constants
 */
export const opening = /^<!doctype html>\n<!-- vidpool report/
