// The second half of the build, after `tsc -b`: the entry points that start a process or a thread
// are bundled into one file each, so that Node parses one file instead of effect's hundreds of
// modules (start-up time). The packages' `dist/` trees stay as tsc wrote them; the bundles sit
// beside them and are what `bin` and the worker spawners load.
import * as esbuild from "esbuild"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("..", import.meta.url))

// The metric kernels in WebAssembly (SIMD: SSIM, and the pixel kernels of PSNR, the temporal
// metrics and sharpness), compiled with AssemblyScript (a devDependency of @vidpool/eval) into one
// module next to the eval package's compiled code: dist/kernels.wasm.
const compileKernels = async () => {
  // The package exports `./asc` for `import` only: reached through eval's own node_modules link.
  const asc = await import(new URL("../packages/eval/node_modules/assemblyscript/dist/asc.js", import.meta.url).href)
  const { error, stderr } = await asc.main([
    "packages/eval/assembly/ssim.ts", "packages/eval/assembly/pixels.ts", "-O3", "--enable", "simd", "--runtime", "stub", "--noAssert",
    "-o", "packages/eval/dist/kernels.wasm"
  ], { readFile: undefined, baseDir: root })
  if (error) throw new Error(`AssemblyScript: ${error.message}\n${stderr.toString()}`)
}

const bundle = (entry, outfile, external = []) =>
  esbuild.build({
    absWorkingDir: root,
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node22",
    // Maps for local debugging only: written beside the bundle without a link, never packed (the
    // packages' `files` leave `dist/**/*.mjs.map` out), since they would carry bundled dependencies' sources.
    sourcemap: "external",
    legalComments: "none",
    minify: true,
    metafile: true,
    logLevel: "warning",
    external
  })

await Promise.all([
  compileKernels(),
  bundle("packages/eval/dist/internal/MetricWorkerMain.js", "packages/eval/dist/metric-worker.mjs"),
  // node-av is an optional native addon: loaded where it is installed, never bundled.
  bundle("packages/libav/dist/internal/DecodeWorkerMain.js", "packages/libav/dist/decode-worker.mjs", ["node-av", "node-av/*"]),
  bundle("packages/cli/dist/bin.js", "packages/cli/dist/vidpool.mjs")
])
