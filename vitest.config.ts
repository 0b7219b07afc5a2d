import { defineConfig } from "vitest/config"
import projects from "./vitest.workspace.ts"

export default defineConfig({
  test: {
    projects,
    // Worker threads and child processes run the compiled packages: build them first. Then the
    // tests' PostgreSQL server: VIDPOOL_TEST_DB, or one of the run's own, stopped at the end.
    globalSetup: ["test/globalSetup.ts", "test/database/globalSetup.ts"],
    // In CI, also write a machine-readable report that .ci/run turns into its closing line.
    ...(process.env.CI
      ? { reporters: ["default", "json"], outputFile: { json: "node_modules/.cache/vitest-report.json" } }
      : {})
  }
})
