// Opt-in: `import 'hanko-auth/express'` once, and Express's `req.auth` is typed as the Hanko claims.
import type { HankoClaims } from './index'

declare global {
  namespace Express {
    interface Request {
      /** Set by `hankoAuth()` when the request carried a valid Hanko token. */
      auth?: HankoClaims
    }
  }
}

export {}
