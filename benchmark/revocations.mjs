// The revocation list's memory (README: Instant logout): heap growth for 100 000 revoked sessions and
// for 100 000 revoked users (UUID ids, as Hanko's), each after a full GC.
//   node --expose-gc benchmark/revocations.mjs
import crypto from 'node:crypto'
import { createRequire } from 'node:module'

const { createRevocationList } = createRequire(import.meta.url)('../index.js')
const COUNT = 100_000

if (typeof globalThis.gc !== 'function') {
  console.error('run with node --expose-gc')
  process.exit(2)
}

function heapAfterGc() {
  globalThis.gc()
  globalThis.gc()
  return process.memoryUsage().heapUsed
}

async function growth(revoke) {
  const ids = Array.from({ length: COUNT }, () => crypto.randomUUID())
  const before = heapAfterGc()
  const list = createRevocationList()
  for (const id of ids) await revoke(list, id)
  const after = heapAfterGc()
  // The ids array exists in both measurements; the list holds references to the same strings, as it
  // would to ids parsed from webhooks (their bytes are counted below, separately).
  return { list, bytes: after - before }
}

const sessions = await growth((list, id) => list.revokeSession(id, Date.now() + 3600_000))
const users = await growth((list, id) => list.revokeUser(id))
const idBytes = COUNT * (36 + 16) // a 36-character one-byte string plus its header
const mb = (bytes) => (bytes / 1024 / 1024).toFixed(1)
console.log(`Node ${process.version}, ${COUNT} revocations each, heap growth after GC:`)
console.log(`| entries | list only | with the id strings (${mb(idBytes)} MB) |`)
console.log('|---|---:|---:|')
console.log(`| ${COUNT} sessions | ${mb(sessions.bytes)} MB | ${mb(sessions.bytes + idBytes)} MB |`)
console.log(`| ${COUNT} users | ${mb(users.bytes)} MB | ${mb(users.bytes + idBytes)} MB |`)
console.log(`(${sessions.list.stats().sessions} sessions, ${users.list.stats().users} users held)`)
