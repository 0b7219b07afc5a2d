#!/usr/bin/env node
// The `vidpool` command. vidpool ships TypeScript sources (no build step): register tsx's loader
// in this process, then run the command, so that signals reach it directly.
import { register } from "tsx/esm/api"

register()
await import("../src/bin.ts")
