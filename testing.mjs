import { createRequire } from 'node:module'

const testing = createRequire(import.meta.url)('./testing.js')

export const { createTestIssuer, signJws } = testing
export default testing
