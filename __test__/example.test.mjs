// The main job: `npm start` shows a real 200/401 round trip against a loopback key set.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

test('examples/express.js --once shows 200 with the token and 401 without', () => {
  const script = fileURLToPath(new URL('../examples/express.js', import.meta.url))
  const env = { ...process.env }
  delete env.HANKO_API_URL
  const run = spawnSync(process.execPath, [script, '--once'], { encoding: 'utf8', env, timeout: 60_000 })
  assert.equal(run.status, 0, run.stderr)
  assert.match(run.stdout, /GET \/api\/me with the token\s+→ 200 \{"user":/)
  assert.match(run.stdout, /GET \/api\/me without a token\s+→ 401 \{"error":"credentials_required"/)
  assert.match(run.stdout, /GET \/api\/me {4}\(JWT check only\) {4}→ 200/)
  assert.match(run.stdout, /GET \/strict\/me \(validateSession\) {3}→ 401 \{"error":"revoked_token","reason":"ERR_SESSION_INVALID"\}/)
  assert.match(run.stdout, /curl -i http:\/\/127\.0\.0\.1:\d+\/api\/me -H "Authorization: Bearer \$TOKEN"/)
})
