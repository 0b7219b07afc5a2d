/**
 * The `VIDPOOL_*` variables the command reads, checked in one place before it parses anything, so
 * that a bad value is one clear line (like a bad flag), not a parser's or a library's message.
 * An empty value counts as unset.
 *
 * @since 0.2.0
 */

/**
 * The largest count a variable or flag may give for threads, workers or prefetch: a number typed
 * by a user sizes nothing before it is checked.
 *
 * @since 0.2.0
 * @category constants
 */
export const maxCount = 4096

const count = (value: string) => /^\d+$/.test(value) && Number(value) >= 1 && Number(value) <= maxCount
const oneOf = (...values: ReadonlyArray<string>) => (value: string) => values.includes(value)
const counted = `a whole number from 1 to ${maxCount}`

/**
 * Each variable, what it sets, and the values it accepts.
 *
 * @since 0.2.0
 * @category constants
 */
export const variables: ReadonlyArray<{
  readonly name: string
  readonly sets: string
  readonly expected: string
  readonly accepts: (value: string) => boolean
}> = [
  { name: "VIDPOOL_ON_ERROR", sets: "--on-error", expected: `"record" or "fail"`, accepts: oneOf("record", "fail") },
  { name: "VIDPOOL_DECODER", sets: "--decoder", expected: `"auto", "libav" or "ffmpeg"`, accepts: oneOf("auto", "libav", "ffmpeg") },
  { name: "VIDPOOL_WORKERS", sets: "--workers", expected: counted, accepts: count },
  { name: "VIDPOOL_LOADER_THREADS", sets: "--loaders", expected: counted, accepts: count },
  { name: "VIDPOOL_PREFETCH_FACTOR", sets: "--prefetch", expected: counted, accepts: count },
  { name: "VIDPOOL_DECODE_THREADS", sets: "the in-process decoder's threads", expected: counted, accepts: count },
  { name: "VIDPOOL_FFMPEG_THREADS", sets: "FFmpeg's threads per decode", expected: counted, accepts: count },
  { name: "VIDPOOL_PROGRESS", sets: "the progress display", expected: `"tty", "plain" or "off"`, accepts: oneOf("tty", "plain", "off") },
  { name: "VIDPOOL_DEBUG", sets: "details of internal errors", expected: `"0" or "1"`, accepts: oneOf("0", "1") },
  { name: "VIDPOOL_SCRATCH_DIR", sets: "the command-line decoder's scratch folder", expected: "a folder path", accepts: (v) => v.trim().length > 0 }
]

/**
 * One sentence per variable set to a value it does not accept, in the order of `variables`.
 *
 * @since 0.2.0
 * @category validation
 */
export const problems = (env: Readonly<Record<string, string | undefined>>): Array<string> =>
  variables.flatMap(({ accepts, expected, name, sets }) => {
    const value = env[name]
    if (value === undefined || value === "" || accepts(value)) return []
    return [`the environment variable ${name} (${sets}) must be ${expected}, got ${JSON.stringify(value)}`]
  })
