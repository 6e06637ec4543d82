// Load generator process (pinned to its own core by http.mjs): autocannon rotating over a token file.
//   node benchmark/load.mjs <url> <tokens.json> <connections> <seconds>
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'

const autocannon = createRequire(import.meta.url)('autocannon')
const [url, tokensFile, connections, seconds] = process.argv.slice(2)
const tokens = JSON.parse(readFileSync(tokensFile, 'utf8'))
let next = 0
const result = await autocannon({
  url,
  connections: Number(connections),
  duration: Number(seconds),
  requests: [
    {
      setupRequest(req) {
        if (tokens.length) req.headers = { ...req.headers, authorization: `Bearer ${tokens[next++ % tokens.length]}` }
        return req
      },
    },
  ],
})
process.stdout.write(
  JSON.stringify({
    requests: result.requests.total,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  }),
)
