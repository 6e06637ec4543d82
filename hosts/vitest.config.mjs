// The pool comes from the command line (`--pool forks|threads|vmThreads|vmForks`).
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['vitest/*.test.mjs'],
  },
})
