// Runs the files check_flow_exports.py wrote in onnxruntime-node and compares them with torch's outputs.
// Usage: node check_flow_exports.mjs DIR (from packages/eval, where onnxruntime-node resolves)
import { readFileSync } from "node:fs"
import { createRequire } from "node:module"
import { join } from "node:path"

const ort = createRequire(import.meta.url)("onnxruntime-node")
const dir = process.argv[2]
const expected = JSON.parse(readFileSync(join(dir, "torch.json"), "utf8"))
const probe = (shape, k) => {
  const n = shape.reduce((a, b) => a * b, 1)
  const data = new Float32Array(n)
  for (let i = 0; i < n; i++) data[i] = Math.sin(k * Math.fround(-1 + (2 * i) / (n - 1)))
  return new ort.Tensor("float32", data, shape)
}
const raft = await ort.InferenceSession.create(join(dir, "raft_large.onnx"), { intraOpNumThreads: 1 })
const started = Date.now()
const { flow } = await raft.run({ frames: probe(expected.flowShape, 5) })
let diff = 0
let largest = 0
expected.flow.forEach((v, k) => {
  diff = Math.max(diff, Math.abs(flow.data[k * expected.every] - v))
  largest = Math.max(largest, Math.abs(v))
})
console.log(`raft_large: flow [${flow.dims}] in ${Date.now() - started} ms; largest difference to torch ${diff.toExponential(2)} (values up to ${largest.toFixed(2)})`)
const lpips = await ort.InferenceSession.create(join(dir, "lpips_alex.onnx"), { intraOpNumThreads: 1 })
const { distance } = await lpips.run({ pair: probe(expected.pairShape, 3) })
const rel = Array.from(distance.data).map((d, i) => Math.abs(d - expected.distance[i]) / Math.abs(expected.distance[i]))
console.log(`LPIPS (AlexNet): [${Array.from(distance.data)}] against torch [${expected.distance}], relative ${rel.map((r) => r.toExponential(2))}`)
