/**
 * The style sheet and the script of the HTML report, inlined into every page: screen and print
 * styles, and the sortable, filterable table of samples built from the page's data.
 *
 * @since 0.3.0
 */

/**
 * The page's style sheet (screen and print).
 *
 * @since 0.3.0
 * @category assets
 */
export const css = `
:root { color-scheme: light; --ink: #1d2433; --muted: #5b6475; --line: #d9dde5; --bad: #c0392b; --bar: #5078b4; --bg: #fff; --soft: #f4f6f9; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1200px; padding: 16px 24px 48px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
h1 { font-size: 22px; margin: 8px 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; } h3 { font-size: 15px; margin: 18px 0 6px; }
.muted { color: var(--muted); } .bad { color: var(--bad); } .mono, td.path, .path { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
.path { word-break: break-all; }
table { border-collapse: collapse; } th, td { padding: 3px 8px; text-align: left; vertical-align: top; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.stats td, .stats th { border-bottom: 1px solid var(--line); }
.banner { border: 1px solid var(--bad); color: var(--bad); padding: 6px 10px; margin: 8px 0; border-radius: 4px; }
.hists { display: flex; flex-wrap: wrap; gap: 12px 24px; }
.hist { break-inside: avoid; } .hist svg { display: block; } .hist rect.bin { fill: var(--bar); cursor: pointer; } .hist rect.bin:hover { fill: #2d4f86; }
.rug { stroke: #8892a6; stroke-width: 1; } .rug.worst { stroke: var(--bad); stroke-width: 2; } .axis { font-size: 10px; fill: var(--muted); }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; margin: 10px 0; break-inside: avoid; page-break-inside: avoid; }
.card header { display: flex; gap: 12px; align-items: baseline; flex-wrap: wrap; }
.strips { display: grid; grid-template-columns: max-content 1fr; gap: 4px 10px; align-items: center; margin-top: 6px; }
.strip { display: flex; gap: 4px; flex-wrap: wrap; } .strip img { display: block; border: 1px solid var(--line); image-rendering: auto; }
.label { font-size: 12px; color: var(--muted); }
.plot polyline { fill: none; stroke: var(--bar); stroke-width: 1.5; } .plot line.mark { stroke: var(--bad); stroke-dasharray: 2 2; } .plot rect { fill: var(--soft); }
.controls { display: flex; gap: 12px; align-items: center; flex-wrap: wrap; margin: 6px 0 8px; }
.controls input[type=search] { padding: 4px 8px; min-width: 260px; border: 1px solid var(--line); border-radius: 4px; font: inherit; }
#samples { width: 100%; } #samples thead th { position: sticky; top: 0; background: var(--soft); border-bottom: 1px solid var(--line); }
#samples th button { all: unset; cursor: pointer; font-weight: 600; } #samples th button:focus-visible { outline: 2px solid var(--bar); }
#samples th[aria-sort=ascending] button::after { content: " \\25B2"; } #samples th[aria-sort=descending] button::after { content: " \\25BC"; }
#samples tbody tr:nth-child(even) { background: var(--soft); } #samples tbody tr.err td { color: var(--bad); }
#samples td.error { max-width: 420px; }
.errors li { margin: 4px 0; }
.plots { display: flex; flex-wrap: wrap; gap: 8px 16px; margin-top: 6px; } .plot-box { margin: 0; } .again { margin: 6px 0 6px 12px; } .again > * + * { margin-left: 8px; } .card header strong { min-width: 1.5em; }
@media print {
  body { max-width: none; padding: 0; font-size: 11px; }
  .controls, .no-print { display: none !important; }
  #samples thead { display: table-header-group; } #samples thead th { position: static; }
  #samples tr { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
  h2 { break-after: avoid; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
`

/**
 * The page's script: builds the table of samples from the JSON data in `#vp-data` (the first
 * 500 rows, every row on "show all" or before printing), sorts it by a click on a column's title
 * (again: the other way), filters it by text, by errors, and by a click on a histogram's bar.
 *
 * @since 0.3.0
 * @category assets
 */
export const script = `
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("vp-data").textContent);
  var table = document.getElementById("samples");
  var body = table.tBodies[0];
  var shown = document.getElementById("shown");
  var text = document.getElementById("filter");
  var onlyErrors = document.getElementById("only-errors");
  var rangeNote = document.getElementById("range");
  var clearRange = document.getElementById("clear-range");
  var showAll = document.getElementById("show-all");
  // Rows beyond the first ones are built on demand ("show all", or printing): a table of
  // thousands of rows takes the browser seconds to lay out.
  var firstRows = 500;
  var state = { key: "index", dir: 1, text: "", errors: false, range: null, limit: firstRows };
  var entities = { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\\"": "&quot;", "'": "&#39;" };
  function esc(s) { return String(s).replace(/[&<>"']/g, function (c) { return entities[c]; }); }
  function fmt(v, d) { return v === null || v === undefined ? "-" : v.toFixed(d); }
  function value(row, key) {
    if (key === "index") return row[0];
    if (key === "video") return row[1];
    if (key === "reference") return row[2];
    if (key === "error") return row[4];
    return row[3][key];
  }
  function compare(a, b) {
    var x = value(a, state.key), y = value(b, state.key);
    var xm = x === null || x === undefined, ym = y === null || y === undefined;
    if (xm || ym) return xm && ym ? a[0] - b[0] : xm ? 1 : -1;
    var c = typeof x === "number" ? x - y : (x < y ? -1 : x > y ? 1 : 0);
    return c !== 0 ? state.dir * c : a[0] - b[0];
  }
  function keep(row) {
    if (state.errors && row[4] === null) return false;
    if (state.range !== null) {
      var v = row[3][state.range.metric];
      if (v === null || v < state.range.lo || v > state.range.hi) return false;
    }
    if (state.text !== "") {
      var t = state.text;
      if ((row[1] + "\\n" + (row[2] || "") + "\\n" + (row[4] || "")).toLowerCase().indexOf(t) < 0) return false;
    }
    return true;
  }
  function render() {
    var rows = data.rows.filter(keep).sort(compare);
    var html = [];
    var count = Math.min(rows.length, state.limit);
    for (var i = 0; i < count; i++) {
      var r = rows[i];
      var cells = "<td class=\\"num\\">" + r[0] + "</td><td class=\\"path\\">" + esc(r[1]) +
        (r[5] !== null ? " <a class=\\"no-print\\" href=\\"#" + r[5] + "\\">frames</a>" : "") + "</td>";
      if (data.hasReference) cells += "<td class=\\"path\\">" + esc(r[2] === null ? "-" : r[2]) + "</td>";
      for (var m = 0; m < data.metrics.length; m++) cells += "<td class=\\"num\\">" + fmt(r[3][m], data.metrics[m].decimals) + "</td>";
      if (data.hasError) cells += "<td class=\\"error\\">" + esc(r[4] === null ? "" : r[4]) + "</td>";
      html.push("<tr" + (r[4] !== null ? " class=\\"err\\"" : "") + ">" + cells + "</tr>");
    }
    body.innerHTML = html.join("");
    shown.textContent = (rows.length === data.rows.length ? "all " + rows.length + " samples" : rows.length + " of " + data.rows.length + " samples") +
      (count < rows.length ? ", the first " + count + " shown" : "");
    showAll.hidden = count === rows.length;
  }
  showAll.addEventListener("click", function () { state.limit = Infinity; render(); });
  window.addEventListener("beforeprint", function () { if (state.limit !== Infinity) { state.limit = Infinity; render(); } });
  var heads = table.tHead.rows[0].cells;
  for (var h = 0; h < heads.length; h++) {
    (function (th) {
      var key = th.getAttribute("data-key");
      th.querySelector("button").addEventListener("click", function () {
        var k = /^\\d+$/.test(key) ? Number(key) : key;
        state.dir = state.key === k ? -state.dir : 1;
        state.key = k;
        for (var j = 0; j < heads.length; j++) heads[j].removeAttribute("aria-sort");
        th.setAttribute("aria-sort", state.dir === 1 ? "ascending" : "descending");
        render();
      });
    })(heads[h]);
  }
  text.addEventListener("input", function () { state.text = text.value.trim().toLowerCase(); render(); });
  onlyErrors.addEventListener("change", function () { state.errors = onlyErrors.checked; render(); });
  function setRange(range) {
    state.range = range;
    rangeNote.textContent = range === null ? "" : data.metrics[range.metric].name + " from " + range.label;
    clearRange.hidden = range === null;
    render();
  }
  clearRange.addEventListener("click", function () { setRange(null); });
  var bins = document.querySelectorAll("rect.bin");
  for (var b = 0; b < bins.length; b++) {
    bins[b].addEventListener("click", function (event) {
      var r = event.currentTarget;
      setRange({ metric: Number(r.getAttribute("data-metric")), lo: Number(r.getAttribute("data-lo")), hi: Number(r.getAttribute("data-hi")), label: r.getAttribute("data-label") });
      table.scrollIntoView();
    });
  }
  render();
})();
`
