/**
 * PNG encoding of 8-bit RGB or grey frames (node:zlib's deflate), for the pictures the HTML
 * report embeds: small, lossless, and no dependency.
 *
 * @since 0.3.0
 */
import { deflateSync } from "node:zlib"

const crcTable = ((): Uint32Array => {
  const table = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    table[n] = c >>> 0
  }
  return table
})()

const crc32 = (bytes: Uint8Array): number => {
  let c = 0xffffffff
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]) & 0xff] ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

const chunk = (type: string, data: Uint8Array): Uint8Array => {
  const out = new Uint8Array(12 + data.length)
  const view = new DataView(out.buffer)
  view.setUint32(0, data.length)
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i)
  out.set(data, 8)
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)))
  return out
}

const paeth = (a: number, b: number, c: number): number => {
  const p = a + b - c
  const pa = Math.abs(p - a)
  const pb = Math.abs(p - b)
  const pc = Math.abs(p - c)
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c
}

/**
 * The filtered scanlines: each row with the filter (none, sub, up, average, Paeth) whose output
 * has the smallest sum of absolute values, the usual heuristic.
 */
const filtered = (pixels: Uint8Array, width: number, height: number, channels: number): Uint8Array => {
  const stride = width * channels
  const out = new Uint8Array(height * (stride + 1))
  const trial = new Uint8Array(stride)
  for (let y = 0; y < height; y++) {
    const row = y * stride
    const above = row - stride
    let best = Infinity
    for (let filter = 0; filter < 5; filter++) {
      let sum = 0
      for (let x = 0; x < stride; x++) {
        const v = pixels[row + x]
        const a = x >= channels ? pixels[row + x - channels] : 0
        const b = y > 0 ? pixels[above + x] : 0
        const c = x >= channels && y > 0 ? pixels[above + x - channels] : 0
        const f = filter === 0 ? v : filter === 1 ? v - a : filter === 2 ? v - b : filter === 3 ? v - ((a + b) >> 1) : v - paeth(a, b, c)
        const byte = f & 0xff
        trial[x] = byte
        sum += byte < 128 ? byte : 256 - byte
      }
      if (sum < best) {
        best = sum
        out[y * (stride + 1)] = filter
        out.set(trial, y * (stride + 1) + 1)
      }
    }
  }
  return out
}

/**
 * A PNG file of one frame: `pixels` row by row, `channels` 3 (RGB) or 1 (grey) bytes each.
 *
 * @example
 * ```ts
 * import * as Png from "./Png.ts"
 *
 * const red = Png.encode(new Uint8Array([255, 0, 0]), 1, 1, 3) // a 1x1 red picture
 * ```
 *
 * @since 0.3.0
 * @category encoding
 */
export const encode = (pixels: Uint8Array, width: number, height: number, channels: 1 | 3): Uint8Array => {
  if (pixels.length !== width * height * channels) {
    throw new RangeError(`Png.encode: ${pixels.length} bytes for ${width}x${height}x${channels}`)
  }
  const header = new Uint8Array(13)
  const view = new DataView(header.buffer)
  view.setUint32(0, width)
  view.setUint32(4, height)
  header[8] = 8
  header[9] = channels === 3 ? 2 : 0
  const data = deflateSync(filtered(pixels, width, height, channels), { level: 9 })
  const parts = [
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", new Uint8Array(data.buffer, data.byteOffset, data.byteLength)),
    chunk("IEND", new Uint8Array(0))
  ]
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.length
  }
  return out
}

/**
 * A PNG as a `data:` URI, for an `<img>` of a self-contained page.
 *
 * @since 0.3.0
 * @category encoding
 */
export const dataUri = (png: Uint8Array): string => `data:image/png;base64,${Buffer.from(png).toString("base64")}`
