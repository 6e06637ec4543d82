// A real redis-server (Debian's package; .ci/run installs it) on a free loopback port, started by the
// test that needs it and stopped on every exit path: after(), process exit, or a failed start.
import { spawn, spawnSync } from 'node:child_process'
import { createConnection, createServer } from 'node:net'
import { sleep } from './helpers.mjs'

const running = new Set()
const killAll = () => {
  for (const child of running) child.kill('SIGKILL')
}
process.on('exit', killAll)
// The test runner stops a file that overran with a signal: no redis-server outlives it.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    killAll()
    process.exit(128 + (signal === 'SIGINT' ? 2 : 15))
  })
}

const freePort = () =>
  new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })

const accepts = (port) =>
  new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' }, () => {
      socket.destroy()
      resolve(true)
    })
    socket.on('error', () => resolve(false))
  })

const installed = spawnSync('redis-server', ['--version'], { encoding: 'utf8' })
/** Why Redis tests cannot run here, or null. */
export const redisMissing = installed.status === 0 ? null : 'redis-server is not installed (Debian: apt-get install redis-server; .ci/run installs it)'

/** Starts redis-server on `port` (a free one by default); `{ url, port, stop, restart, commandCalls }`. */
export async function startRedis({ port } = {}) {
  if (redisMissing !== null) throw new Error(redisMissing)
  const chosen = port ?? (await freePort())
  let child = null

  async function start() {
    child = spawn('redis-server', ['--port', String(chosen), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'], {
      stdio: 'ignore',
    })
    running.add(child)
    const started = Date.now()
    while (!(await accepts(chosen))) {
      if (child.exitCode !== null || Date.now() - started > 10_000) {
        await stop()
        throw new Error(`redis-server did not start on port ${chosen}`)
      }
      await sleep(20)
    }
  }

  async function stop() {
    if (child === null) return
    const exiting = child
    child = null
    if (exiting.exitCode === null) {
      const exited = new Promise((resolve) => exiting.once('exit', resolve))
      exiting.kill('SIGKILL')
      await exited
    }
    running.delete(exiting)
  }

  await start()
  return {
    url: `redis://127.0.0.1:${chosen}`,
    port: chosen,
    stop,
    restart: start,
    /** Calls per command since start (INFO commandstats), from a one-off redis-cli. */
    commandCalls() {
      const info = spawnSync('redis-cli', ['-p', String(chosen), 'INFO', 'commandstats'], { encoding: 'utf8' }).stdout
      const calls = {}
      for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls[match[1]] = Number(match[2])
      return calls
    },
  }
}

/**
 * A TCP proxy on 127.0.0.1 in front of `port`: `cut()` drops every connection and refuses new ones (a
 * network partition between one process and Redis, while Redis stays up for the others); `heal()` ends it.
 */
export async function startProxy(port) {
  const listenPort = await freePort()
  const sockets = new Set()
  let server = null
  const listen = () =>
    new Promise((resolve) => {
      server = createServer((client) => {
        const upstream = createConnection({ port, host: '127.0.0.1' })
        for (const s of [client, upstream]) {
          sockets.add(s)
          s.on('close', () => sockets.delete(s))
          s.on('error', () => {
            client.destroy()
            upstream.destroy()
          })
        }
        client.pipe(upstream).pipe(client)
      }).listen(listenPort, '127.0.0.1', resolve)
    })
  await listen()
  return {
    url: `redis://127.0.0.1:${listenPort}`,
    async cut() {
      const closed = new Promise((resolve) => server.close(resolve))
      for (const s of sockets) s.destroy()
      await closed
    },
    heal: listen,
    async close() {
      for (const s of sockets) s.destroy()
      if (server.listening) await new Promise((resolve) => server.close(resolve))
    },
  }
}
