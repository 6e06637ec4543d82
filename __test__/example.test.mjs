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
  assert.match(run.stdout, /GET \/api\/me {4}\(before logout\) {5}→ 200/)
  assert.match(
    run.stdout,
    /POST \/hanko\/webhooks \(Hanko's session\.delete\.explicit\.logout\) → 200 \{"ok":true,"event":"session\.delete\.explicit\.logout","action":"revoked-session"\}/,
  )
  assert.match(run.stdout, /GET \/api\/me {4}\(the next request\) {2}→ 401 \{"error":"revoked_token","reason":"ERR_SESSION_INVALID"\}/)
  assert.match(run.stdout, /curl -i http:\/\/127\.0\.0\.1:\d+\/api\/me -H "Authorization: Bearer \$TOKEN"/)
})

test('the demo fails fast, in a sentence, on a wrong HANKO_API_URL and on a busy PORT', async () => {
  const script = fileURLToPath(new URL('../examples/express.js', import.meta.url))
  const wrong = spawnSync(process.execPath, [script, '--once'], {
    encoding: 'utf8',
    env: { ...process.env, HANKO_API_URL: 'http://127.0.0.1:9' },
    timeout: 60_000,
  })
  assert.equal(wrong.status, 1)
  assert.match(wrong.stderr, /^Cannot load Hanko's key set from http:\/\/127\.0\.0\.1:9 \(ERR_JWKS_UNAVAILABLE\)/)
  assert.match(wrong.stderr, /Is HANKO_API_URL your Hanko API URL/)
  const net = await import('node:net')
  const blocker = net.createServer().listen(0, '127.0.0.1')
  await new Promise((resolve) => blocker.once('listening', resolve))
  const port = blocker.address().port
  const env = { ...process.env, PORT: String(port) }
  delete env.HANKO_API_URL
  const busy = spawnSync(process.execPath, [script, '--once'], { encoding: 'utf8', env, timeout: 60_000 })
  blocker.close()
  assert.equal(busy.status, 1)
  assert.equal(busy.stderr.trim(), `Port ${port} is in use: start with PORT=<another port> npm start`)
})
