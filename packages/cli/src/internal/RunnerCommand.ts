/**
 * `vidpool runner --db URL --listen HOST:PORT`: this process becomes a runner of a cluster. It
 * serves the batches of the shards it holds with this machine's own decoder and metric workers
 * (the engine's Evaluator), until it is interrupted (Ctrl-C, SIGTERM), when it leaves the
 * cluster and its shards move to the other runners.
 *
 * @since 0.2.0
 */
import { Effect, Layer, Option, References } from "effect"
import { Command, Flag } from "effect/cli"
import type { RunnerAddress } from "effect/cluster"
import type { SocketServer } from "effect/socket"
import { BatchEvaluator, ClusterLog, Database, Runner } from "@vidpool/cluster"
import { checkClusterName, clusterName, db, dbUrl } from "./ClusterRun.ts"
import { type DecoderChoice, decoderChoices, Engine, passedOn } from "../Engine.ts"
import { quiet } from "./Flags.ts"
import { InputError } from "../InputError.ts"
import * as Output from "../Output.ts"

const address = (flag: string, text: string) =>
  Option.match(Runner.parseAddress(text), {
    onNone: () => Effect.fail(InputError.usage(`--${flag} must be HOST:PORT with a port from 1 to 65535, got "${text}"`)),
    onSome: Effect.succeed
  })

/** Why a socket cannot listen, by the system's code, and the remedy. */
const listenCauses: Record<string, string> = {
  EADDRINUSE: "the address is already in use (EADDRINUSE): another program, or another runner, listens on that port; " +
    "give --listen a free port",
  EADDRNOTAVAIL: "cannot assign requested address (EADDRNOTAVAIL): it is not an address of this machine; " +
    "give --listen one of its addresses, or 0.0.0.0:PORT with --advertise HOST:PORT, the address the others reach it at",
  EACCES: "permission denied (EACCES): a port below 1024 needs privileges; give --listen a port from 1024 up",
  ENOTFOUND: "no such host (ENOTFOUND); give --listen an address or a name of this machine",
  EAI_AGAIN: "the host name cannot be resolved now (EAI_AGAIN); give --listen an address of this machine"
}

/**
 * The one line for a runner that cannot listen at `--listen`: the address, the cause and the
 * remedy (exit code 2, as for any flag the user can fix).
 *
 * @since 0.2.0
 * @category errors
 */
export const listenError = (listen: RunnerAddress.RunnerAddress, error: SocketServer.SocketServerError): InputError => {
  const cause = error.reason.cause
  const code = typeof cause === "object" && cause !== null && typeof (cause as { code?: unknown }).code === "string"
    ? (cause as { code: string }).code
    : undefined
  const said = cause instanceof Error ? cause.message : error.message
  const why = (code === undefined ? undefined : listenCauses[code]) ?? `${said}; give --listen another address`
  return InputError.usage(`--listen ${listen.host}:${listen.port}: cannot listen there: ${why}`)
}

const isDecoderChoice = (name: string | undefined): name is DecoderChoice =>
  decoderChoices.includes(name as DecoderChoice)

/**
 * @since 0.2.0
 * @category commands
 */
export const command = Command.make(
  "runner",
  {
    db,
    clusterName,
    listen: Flag.String("listen").pipe(
      Flag.withDescription("The address to serve other runners and coordinators on, HOST:PORT"),
      Flag.withMetavar("HOST:PORT")
    ),
    advertise: Flag.String("advertise").pipe(
      Flag.withDescription("The address the others reach this runner at, when not --listen's (behind NAT, listening on 0.0.0.0)"),
      Flag.withMetavar("HOST:PORT"),
      Flag.optional
    ),
    batches: Flag.Int("batches").pipe(
      Flag.withDescription("Batches evaluated at once on this runner (default 1; each uses the run's metric workers and loaders)"),
      Flag.withDefault(1)
    ),
    quiet
  },
  Effect.fn("RunnerCommand.handler")(function*(flags) {
    const db = dbUrl(flags.db)
    if (Option.isNone(db)) {
      return yield* InputError.usage(`runner needs --db URL (or VIDPOOL_DB): the PostgreSQL database of the cluster`)
    }
    if (!(Number.isSafeInteger(flags.batches) && flags.batches >= 1 && flags.batches <= 64)) {
      return yield* InputError.usage(`--batches must be a whole number from 1 to 64, got ${flags.batches}`)
    }
    const url = yield* Database.checkUrl(db.value)
    const listen = yield* address("listen", flags.listen)
    const advertise = Option.isSome(flags.advertise) ? yield* address("advertise", flags.advertise.value) : listen
    const cluster = yield* checkClusterName(flags.clusterName)
    const engine = yield* Engine
    const name = `${advertise.host}:${advertise.port}`
    // Batches are evaluated by this process's engine: its Evaluator per decoder, built once and
    // reused by every batch (the decoder a batch names, when this machine has it).
    const evaluator = BatchEvaluator.of({
      evaluate: (samples, options) =>
        engine.evaluate(samples, {
          metrics: options.metrics,
          onError: options.onError,
          referenceSamples: options.referenceSamples,
          decoder: isDecoderChoice(options.decoder) ? options.decoder : "auto",
          onResult: () => Effect.void,
          ...passedOn(options)
        })
    })
    // effect/cluster's log, one line per event: a database outage is two lines, not one per retry.
    const log = ClusterLog.layer({
      database: Database.safeUrl(url),
      write: (line) => Output.writeStderrUnsafe(`runner ${name}: ${line}\n`)
    }).pipe(Layer.provide(Database.layer(url, { maxConnections: 1 })))
    const runner = Runner.layerRunner({
      db: url,
      name: cluster,
      listen,
      advertise,
      batchesAtOnce: flags.batches,
      onBatch: ({ reply, request }) =>
        flags.quiet ? Effect.void : Output.writeStderr(
          `runner ${name}: run ${request.runId} batch ${request.batch}: ${request.indices.length} samples in ${Math.round(reply.timing.wallMs)} ms\n`
        )
    }).pipe(Layer.provide(Layer.succeed(BatchEvaluator, evaluator)), Layer.provide(log))
    yield* Effect.scoped(Effect.gen(function*() {
      yield* Layer.build(runner).pipe(Effect.catchTag("SocketServerError", (error) => Effect.fail(listenError(listen, error))))
      yield* Output.writeStderr(`runner ${name}: serving on ${listen.host}:${listen.port}, cluster ${cluster} in ${Database.safeUrl(url)}\n`)
      return yield* Effect.never
    })).pipe(
      // effect/cluster's own notices (info level) would repeat the line above; warnings stay.
      Effect.provideService(References.MinimumLogLevel, "Warn")
    )
  })
).pipe(
  Command.withDescription("Serve a cluster's evaluations (vidpool eval --cluster) from this machine, until interrupted"),
  Command.withExamples([
    {
      command: "vidpool runner --db postgres://vidpool:secret@db.lan/vidpool --listen 10.0.0.5:7100",
      description: "Join the cluster whose storage is that database"
    }
  ])
)
