/**
 * CLIP's text input: the tokenizer file a CLIP model comes with (`tokenizer.json`, byte-level
 * BPE), read by Hugging Face's tokenizers library, and prompts as CLIP's 77 token ids.
 *
 * @since 0.3.0
 */
import { Tokenizer } from "@huggingface/tokenizers"
import * as fs from "node:fs/promises"

/**
 * The tokens CLIP's text encoder takes: the start token, at most 75 tokens of the text, the end
 * token, then zeros (OpenAI's `clip.tokenize(text, truncate=True)`).
 *
 * @since 0.3.0
 * @category constants
 */
export const CONTEXT_LENGTH = 77

/**
 * The start and end tokens of CLIP's vocabulary.
 *
 * @since 0.3.0
 * @category constants
 */
export const START = "<|startoftext|>"

/**
 * @since 0.3.0
 * @category constants
 */
export const END = "<|endoftext|>"

/**
 * The most bytes a tokenizer file may have (CLIP's is 2.2 MB).
 *
 * @since 0.3.0
 * @category constants
 */
export const MAX_TOKENIZER_BYTES = 64 * 2 ** 20

/**
 * A loaded CLIP tokenizer: `encode` gives a prompt's 77 ids.
 *
 * @since 0.3.0
 * @category models
 */
export interface ClipTokenizer {
  readonly encode: (text: string) => BigInt64Array
  readonly start: number
  readonly end: number
}

/**
 * Ids of `text` (without special tokens) as CLIP's 77: start, the first 75, end, zeros.
 *
 * @since 0.3.0
 * @category tokens
 */
export const frameIds = (ids: ReadonlyArray<number>, start: number, end: number): BigInt64Array => {
  const out = new BigInt64Array(CONTEXT_LENGTH)
  const body = Math.min(ids.length, CONTEXT_LENGTH - 2)
  out[0] = BigInt(start)
  for (let i = 0; i < body; i++) out[1 + i] = BigInt(ids[i])
  out[1 + body] = BigInt(end)
  return out
}

/**
 * Reads a `tokenizer.json` and checks it is CLIP's kind (a BPE model with the start and end
 * tokens); throws an Error saying what is wrong otherwise.
 *
 * @since 0.3.0
 * @category models
 */
export const loadClipTokenizer = async (path: string): Promise<ClipTokenizer> => {
  const stat = await fs.stat(path)
  if (stat.size > MAX_TOKENIZER_BYTES) {
    throw new Error(`the file has ${stat.size} bytes, over the ${MAX_TOKENIZER_BYTES} a tokenizer.json may have`)
  }
  const text = await fs.readFile(path, "utf8")
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (cause) {
    throw new Error(`found a file that is not JSON (${cause instanceof Error ? cause.message : String(cause)})`)
  }
  const model = typeof json === "object" && json !== null ? (json as { model?: { type?: unknown } }).model : undefined
  if (model?.type !== "BPE") {
    throw new Error(`found a file without a BPE model ("model.type" is ${JSON.stringify(model?.type ?? null)})`)
  }
  let tokenizer: Tokenizer
  try {
    tokenizer = new Tokenizer(json as object, {})
  } catch (cause) {
    throw new Error(`found a tokenizer.json the tokenizers library cannot read (${cause instanceof Error ? cause.message : String(cause)})`)
  }
  const start = tokenizer.token_to_id(START)
  const end = tokenizer.token_to_id(END)
  if (start === undefined || end === undefined) {
    throw new Error(`found a tokenizer without CLIP's ${START} and ${END} tokens`)
  }
  return {
    start,
    end,
    encode: (prompt) => frameIds(tokenizer.encode(prompt, { add_special_tokens: false }).ids, start, end)
  }
}
