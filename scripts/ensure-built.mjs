// Builds the native addon when no binary is present yet (a fresh clone), so `npm start` just works.
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'

const built = readdirSync('.').some((f) => /^hanko-auth\..+\.node$/.test(f))
if (!built) {
  console.log('hanko-auth: building the native addon (first run only, a few minutes)…')
  const args = ['napi', 'build', '--platform', '--release', '--js', 'binding.js', '--dts', 'binding.d.ts']
  const result = spawnSync('npx', args, { stdio: 'inherit' })
  process.exit(result.status ?? 1)
}
