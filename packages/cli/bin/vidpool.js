#!/usr/bin/env node
// The `vidpool` command: the compiled CLI, bundled into one file by the build, run by plain Node in
// this process (so that signals reach it directly).
import "../dist/vidpool.mjs"
