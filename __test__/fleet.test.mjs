// Two processes, one fleet (README: Instant logout): a logout webhook delivered to process A makes
// process B refuse that session's token on its next request. Reports the propagation delay.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { createTestIssuer } from '../testing.mjs'
import { claimsOf, getWithToken } from './helpers.mjs'
import { redisMissing, startRedis } from './redis-server.mjs'

const SESSIONS = 20
let issuer
let redis
const children = []

/** Starts a fleet process; resolves to its URL. */
async function fleetProcess() {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./fleet-process.mjs', import.meta.url))], {
    env: { ...process.env, REDIS_URL: redis.url, HANKO_API_URL: issuer.url, KEY_PREFIX: `fleet-${process.pid}:` },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  children.push(child)
  let output = ''
  child.stdout.setEncoding('utf8')
  for await (const chunk of child.stdout) {
    output += chunk
    const url = /listening (\S+)/.exec(output)?.[1]
    if (url) return url
  }
  throw new Error(`the fleet process exited before listening (code ${child.exitCode})`)
}

before(async () => {
  if (redisMissing !== null) return
  issuer = await createTestIssuer({ modulusLength: 2048 })
  redis = await startRedis()
})
after(async () => {
  for (const child of children) {
    if (child.exitCode === null) {
      child.kill('SIGTERM')
      await once(child, 'exit')
    }
  }
  await issuer?.close()
  await redis?.stop()
})

test('a logout webhook to process A: process B refuses that token on its next request', { skip: redisMissing ?? false }, async () => {
  const [a, b] = await Promise.all([fleetProcess(), fleetProcess()])
  const delays = []
  const roundTrips = []
  let acceptedAfterAnswer = 0
  for (let i = 0; i < SESSIONS; i++) {
    const token = issuer.token()
    assert.equal((await getWithToken(`${b}/me`, token)).status, 200, 'B accepts (and caches) the token')
    const started = performance.now()
    assert.equal((await getWithToken(`${b}/me`, token)).status, 200)
    roundTrips.push(performance.now() - started)
    const delivered = await issuer.webhook(
      'session.delete.explicit.logout',
      { id: claimsOf(token).session_id, expires_at: null },
      { url: `${a}/hanko/webhooks` },
    )
    assert.deepEqual([delivered.status, delivered.body.action], [200, 'revoked-session'])
    // From A's answer to B's first refusal, asking B again and again.
    const answered = performance.now()
    let refused = await getWithToken(`${b}/me`, token)
    while (refused.status === 200) {
      acceptedAfterAnswer++
      refused = await getWithToken(`${b}/me`, token)
    }
    delays.push(performance.now() - answered)
    assert.deepEqual([refused.status, refused.body], [401, { code: 'revoked_token' }])
  }
  const median = (values) => values.sort((x, y) => x - y)[values.length >> 1].toFixed(2)
  console.log(
    `# ${SESSIONS} logouts via A: B accepted ${acceptedAfterAnswer} requests after A's 200; A's 200 → B's 401 median ${median(delays)} ms, max ${delays.at(-1).toFixed(2)} ms (one request to B alone: median ${median(roundTrips)} ms)`,
  )
})
