// ESM entry: the same objects as the CommonJS entry, so `instanceof` works across both.
import { createRequire } from 'node:module'

const hankoAuthModule = createRequire(import.meta.url)('./index.js')

export const {
  hankoAuth,
  createVerifier,
  verify,
  Verifier,
  createRevocationList,
  RevocationList,
  hankoWebhooks,
  HankoAuthError,
  JwtError,
  JwksError,
  UnauthorizedError,
} = hankoAuthModule
export default hankoAuthModule
