// Test kit: a headless Chromium driven over the Chrome DevTools Protocol (a WebSocket, Node's own),
// for tests that look at a page as a person would. The browser is Debian's chromium where it is
// installed (/usr/bin/chromium), else the one the @sparticuz/chromium dev dependency ships inside
// its npm package (so `pnpm install` alone gives one); VIDPOOL_TEST_CHROMIUM names another binary,
// or `npm` for the packaged one even where Debian's is installed.
// Nothing is downloaded or installed here.
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { descendants, isRunning } from "./helpers.ts"

/** Which browser the tests use, and where it is. */
export const findChromium = async (): Promise<{ readonly path: string; readonly kind: string }> => {
  const given = process.env.VIDPOOL_TEST_CHROMIUM
  if (given !== undefined && given !== "" && given !== "npm") return { path: given, kind: "VIDPOOL_TEST_CHROMIUM" }
  if (given !== "npm" && fs.existsSync("/usr/bin/chromium")) return { path: "/usr/bin/chromium", kind: "Debian's chromium" }
  const { default: Chromium } = await import("@sparticuz/chromium")
  // Unpacks the brotli-compressed binary that the npm package holds into the temporary folder, once.
  return { path: await Chromium.executablePath(), kind: "@sparticuz/chromium" }
}

interface Pending {
  readonly resolve: (value: Record<string, unknown>) => void
  readonly reject: (error: Error) => void
}

/** A page of the browser: DevTools commands to it, and waiting for its events. */
export interface Page {
  readonly send: (method: string, params?: Record<string, unknown>) => Promise<Record<string, unknown>>
  readonly waitFor: (event: string, timeoutMs: number) => Promise<Record<string, unknown>>
  /** The value of a JavaScript expression in the page (awaited when it is a promise). */
  readonly evaluate: <A>(expression: string) => Promise<A>
}

export interface Browser {
  readonly pid: number
  readonly kind: string
  readonly page: Page
  /** Kills the browser's process group and waits for the browser to exit. */
  readonly close: () => Promise<void>
}

/** Resolves with `promise`, or rejects after `ms` naming `what`. */
const within = <A>(promise: Promise<A>, ms: number, what: string): Promise<A> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)
    promise.then((value) => {
      clearTimeout(timer)
      resolve(value)
    }, (error: unknown) => {
      clearTimeout(timer)
      reject(error instanceof Error ? error : new Error(String(error)))
    })
  })

/**
 * Starts a headless browser with one page. The browser runs in a process group of its own, which
 * `close` kills whole; a failure to start kills it too.
 */
export const launch = async (profileDir: string): Promise<Browser> => {
  const chromium = await findChromium()
  const child = spawn(chromium.path, [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--remote-debugging-port=0",
    `--user-data-dir=${path.join(profileDir, "profile")}`,
    "--window-size=1280,900",
    "about:blank"
  ], { detached: true, stdio: ["ignore", "ignore", "pipe"] })
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  const killGroup = () => {
    try {
      process.kill(-child.pid!, "SIGKILL")
    } catch {
      // already gone
    }
  }
  // Should the test process end first (a timeout, a crash), the browser ends with it.
  process.once("exit", killGroup)
  /**
   * The group, and each process the browser started: one that left the group (the crash
   * handler starts a session of its own) is killed by its id, read from /proc before the group
   * goes. Resolves once none of them runs (polled, 10 s at most).
   */
  const kill = async () => {
    const family = descendants(child.pid!).map((p) => p.pid)
    killGroup()
    for (const pid of family) {
      try {
        process.kill(pid, "SIGKILL")
      } catch {
        // already gone
      }
    }
    await exited
    process.removeListener("exit", killGroup)
    const deadline = Date.now() + 10_000
    while (family.some(isRunning)) {
      if (Date.now() > deadline) throw new Error(`browser processes still running: ${family.filter(isRunning).join(", ")}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  try {
    const url = await within(new Promise<string>((resolve, reject) => {
      let text = ""
      child.stderr!.on("data", (chunk: Buffer) => {
        text += chunk.toString()
        const found = /DevTools listening on (ws:\/\/\S+)/.exec(text)
        if (found !== null) resolve(found[1])
      })
      child.once("exit", (code, signal) => reject(new Error(`${chromium.path} exited (${code ?? signal}) before it listened: ${text.slice(-2000)}`)))
      child.once("error", reject)
    }), 60_000, `${chromium.kind} (${chromium.path}) to start`)
    child.stderr!.resume()
    const socket = new WebSocket(url)
    await within(new Promise<void>((resolve, reject) => {
      socket.addEventListener("open", () => resolve(), { once: true })
      socket.addEventListener("error", () => reject(new Error(`cannot connect to ${url}`)), { once: true })
    }), 30_000, "the DevTools connection")
    let next = 1
    const pending = new Map<number, Pending>()
    const listeners = new Set<(message: Record<string, unknown>) => void>()
    socket.addEventListener("message", (event) => {
      const message = JSON.parse(String(event.data)) as Record<string, unknown>
      if (typeof message.id === "number") {
        const waiting = pending.get(message.id)
        pending.delete(message.id)
        if (message.error !== undefined) waiting?.reject(new Error(JSON.stringify(message.error)))
        else waiting?.resolve((message.result ?? {}) as Record<string, unknown>)
        return
      }
      for (const listener of listeners) listener(message)
    })
    const raw = (method: string, params: Record<string, unknown> = {}, sessionId?: string) =>
      within(new Promise<Record<string, unknown>>((resolve, reject) => {
        const id = next++
        pending.set(id, { resolve, reject })
        socket.send(JSON.stringify({ id, method, params, ...(sessionId !== undefined ? { sessionId } : {}) }))
      }), 60_000, method)
    const { targetId } = await raw("Target.createTarget", { url: "about:blank" })
    const { sessionId } = await raw("Target.attachToTarget", { targetId, flatten: true }) as { sessionId: string }
    const send = (method: string, params: Record<string, unknown> = {}) => raw(method, params, sessionId)
    const page: Page = {
      send,
      waitFor: (event, timeoutMs) =>
        within(new Promise((resolve) => {
          const listener = (message: Record<string, unknown>) => {
            if (message.method === event && message.sessionId === sessionId) {
              listeners.delete(listener)
              resolve((message.params ?? {}) as Record<string, unknown>)
            }
          }
          listeners.add(listener)
        }), timeoutMs, event),
      evaluate: async <A>(expression: string) => {
        const result = await send("Runtime.evaluate", { expression, awaitPromise: true, returnByValue: true }) as {
          result: { value?: A }
          exceptionDetails?: { text: string; exception?: { description?: string } }
        }
        if (result.exceptionDetails !== undefined) {
          throw new Error(`${expression}: ${result.exceptionDetails.exception?.description ?? result.exceptionDetails.text}`)
        }
        return result.result.value as A
      }
    }
    return {
      pid: child.pid!,
      kind: chromium.kind,
      page,
      close: async () => {
        socket.close()
        await kill()
      }
    }
  } catch (error) {
    await kill()
    throw error
  }
}
