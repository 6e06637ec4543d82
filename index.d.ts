// Hand-written public types of hanko-auth. The generated binding.d.ts describes the native layer only.

import type { IncomingHttpHeaders } from 'node:http'

/** The `email` claim Hanko adds when the user has a primary email. */
export interface HankoEmail {
  address: string
  is_primary: boolean
  is_verified: boolean
}

/** The claims of a verified Hanko session token. */
export interface HankoClaims {
  /** The user's ID (a UUID). */
  sub: string
  /** Issued at, seconds since the epoch. */
  iat: number
  /** Expires at, seconds since the epoch. */
  exp: number
  /** Audience: always an array in Hanko tokens (`["localhost"]` by default, your app URL on Hanko Cloud). */
  aud: string[]
  /** The server-side session this token belongs to (a UUID). */
  session_id: string
  email?: HankoEmail
  username?: string
  /** Authentication methods used, e.g. `["passkey"]`. */
  amr?: string[]
  /** Present only when an issuer is configured in Hanko. */
  iss?: string
  /** Custom claims from a JWT template. */
  [claim: string]: unknown
}

/** Algorithms a verifier may accept. `none` and `HS*` are refused at creation. */
export type Algorithm = 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'EdDSA'

/** Seconds as a number, or a string such as `'30s'`, `'15m'`, `'12h'`, `'7d'`. */
export type Seconds = number | string

/** Key-set (JWKS) fetching and caching. All times are in milliseconds. */
export interface JwksOptions {
  /** How long a fetched key set is fresh when the server sends no `Cache-Control: max-age`. Default `600000`. */
  cacheMaxAge?: number
  /** Lower clamp for a server's `max-age`. Default `30000`. */
  minCacheAge?: number
  /** Upper clamp for a server's `max-age`. Default `86400000`. */
  maxCacheAge?: number
  /** No refetch for an unknown `kid` sooner than this after the last fetch. Default `30000`. */
  cooldown?: number
  /** Per JWKS request, body included. Default `5000`. */
  timeout?: number
  /** When refreshes fail, keep verifying with the last good keys this long past their fresh age. Default `86400000`. */
  maxStale?: number
  /** Larger JWKS responses are refused. Default `1048576`. */
  maxBytes?: number
  /** Extra request headers for the JWKS request. Default none. */
  headers?: Record<string, string>
}

/** The verified-token cache. */
export interface TokenCacheOptions {
  /** At most this many tokens are remembered. Default `10000`. */
  maxEntries?: number
}

/** Server-side session confirmation against Hanko's `POST /sessions/validate`. */
export interface ValidateSessionOptions {
  /** How long a confirmed session is trusted before asking again, in ms (never past `exp`). Default `30000`. */
  ttl?: number
  /** At most this many sessions are remembered. Default `10000`. */
  maxEntries?: number
  /** Accept a locally verified token when Hanko cannot be reached. Default `false` (fail with 503). */
  failOpen?: boolean
}

export interface VerifierOptions {
  /** The Hanko API URL; the JWKS is at `<jwksHost>/.well-known/jwks.json`. Default `process.env.HANKO_API_URL`. */
  jwksHost?: string
  /** The full JWKS URL, when it is not under `jwksHost`. Default derived from `jwksHost`. */
  jwksUri?: string
  /** Accepted signature algorithms. Default `['RS256']` (Hanko's). */
  algorithms?: Algorithm[]
  /** The token's `aud` must contain one of these. Default none (not checked). */
  audience?: string | string[]
  /** The token's `iss` must equal one of these. Default none (not checked). */
  issuer?: string | string[]
  /** The token's `sub` must equal this. Default none (not checked). */
  subject?: string
  /** Leeway for `exp`, `nbf` and `iat`. Default `0`. */
  clockTolerance?: Seconds
  /** Refuse tokens whose `iat` is older than this. Default none. */
  maxTokenAge?: Seconds
  /** Claims that must be present. Default `['sub', 'exp']`. */
  requiredClaims?: string[]
  /** When set, the header `typ` must equal it (case-insensitive, `application/` optional). Default none. */
  typ?: string
  /** Key-set fetching and caching. Defaults as listed in {@link JwksOptions}. */
  jwks?: JwksOptions
  /** The verified-token cache; `false` turns it off. Default `{ maxEntries: 10000 }`. */
  tokenCache?: boolean | TokenCacheOptions
  /** Confirm each session with Hanko (cached). Needs `jwksHost`. Default `false`. */
  validateSession?: boolean | ValidateSessionOptions
  /**
   * Revoked sessions and users (a {@link RevocationList} shared with {@link hankoWebhooks}): their tokens
   * fail with `ERR_SESSION_INVALID` (`revoked_token`), cached ones too. Checked after `isRevoked`, before
   * `validateSession`. Default none.
   */
  revocations?: Pick<RevocationList, 'isRevoked'>
  /** Allow `http:` for hosts other than localhost / 127.0.0.0/8 / [::1]. Default `false`. */
  allowInsecureHttp?: boolean
}

/** The request shape the middleware reads (Express's `Request` fits it; a missing `headers` means no token). */
export interface HankoAuthRequest {
  method?: string
  url?: string
  originalUrl?: string
  headers?: IncomingHttpHeaders
  cookies?: Record<string, string | undefined>
  [key: string]: any
}

/** The response shape the middleware touches: it only sets `WWW-Authenticate` on a 401, when it can. */
export interface HankoAuthResponse {
  headersSent?: boolean
  setHeader?(name: string, value: string): unknown
}

export interface HankoAuthOptions extends VerifierOptions {
  /** Cookie read when there is no Bearer header. Default `'hanko'`. */
  cookieName?: string
  /** `false`: a request without a token passes with the claims unset; a bad token still fails. Default `true`. */
  credentialsRequired?: boolean
  /** Where the claims go on `req`; a dotted path like `'user.jwt'` works. Default `'auth'`. */
  requestProperty?: string
  /** Replaces the built-in extraction. Default: `Authorization: Bearer`, then the cookie. */
  getToken?: (req: HankoAuthRequest) => string | null | undefined | Promise<string | null | undefined>
  /** Return `true` to refuse a verified token with `revoked_token`. Default none. */
  isRevoked?: (req: HankoAuthRequest, token: { header: Record<string, unknown>; payload: HankoClaims }) => boolean | Promise<boolean>
}

/** An Express-compatible handler; `next` is called exactly once. */
export type HankoAuthHandler = (req: HankoAuthRequest, res: HankoAuthResponse, next: (err?: unknown) => void) => void

/** A path rule of `unless`: exact path, RegExp, or either limited to some methods. */
export type UnlessPath = string | RegExp | { url: string | RegExp; methods?: string | string[]; method?: string | string[] }

/** express-unless's options: authentication is skipped when any rule matches. */
export interface UnlessOptions {
  /** Request paths (query string ignored) to skip. */
  path?: UnlessPath | UnlessPath[]
  /** Request methods to skip, e.g. `'OPTIONS'`. */
  method?: string | string[]
  /** Path endings to skip, e.g. `['.css', '.png']`. */
  ext?: string | string[]
  /** Return `true` (or a Promise of it) to skip. */
  custom?: (req: HankoAuthRequest) => boolean | Promise<boolean>
  /** Match `req.originalUrl` rather than `req.url`. Default `true`. */
  useOriginalUrl?: boolean
}

/** The middleware `hankoAuth()` returns. */
export interface HankoAuthMiddleware extends HankoAuthHandler {
  /** Its verifier: `ready()` for a fail-fast start, `stats()`, `reload()`. */
  readonly verifier: Verifier
  /** The same middleware, skipped when a rule matches (express-unless semantics). */
  unless(options: UnlessOptions | ((req: HankoAuthRequest) => boolean | Promise<boolean>)): HankoAuthHandler
}

export interface VerifierStats {
  jwksFetches: number
  jwksFailures: number
  /** When the last fetch started (ms since the epoch), or `null`. */
  lastFetchAt: number | null
  /** `'none'` before the first fetch, `'ok'`, or the error code of the last failed fetch. */
  lastFetchStatus: string
  keys: number
  kids: string[]
  /** Keys are past their fresh age and the last refresh failed or is running. */
  servingStale: boolean
  /** An unknown `kid` would not trigger a fetch right now. */
  coolingDown: boolean
  tokenCacheHits: number
  tokenCacheMisses: number
  /** Tokens in the verified-token cache now. */
  tokenCacheSize: number
  sessionChecks: number
  sessionCacheHits: number
  /** Sessions in the session cache now. */
  sessionCacheSize: number
  /** Locally verified tokens accepted because Hanko could not be reached (`failOpen`). */
  sessionFailOpen: number
}

export declare class Verifier {
  constructor(options?: VerifierOptions)
  /** Verifies a token, fetching the key set when it must. */
  verify<C extends object = HankoClaims>(token: string): Promise<C>
  /** Verifies with cached keys only; throws `ERR_JWKS_NOT_LOADED` before the first load. */
  verifySync<C extends object = HankoClaims>(token: string): C
  /** Loads the key set now; rejects when it cannot be had (fail fast at startup). */
  ready(): Promise<void>
  /** Forces a refetch of the key set (shared with any fetch in flight). */
  reload(): Promise<void>
  stats(): VerifierStats
}

export type JwtErrorCode =
  | 'ERR_JWT_EXPIRED'
  | 'ERR_JWT_CLAIM_VALIDATION_FAILED'
  | 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'
  | 'ERR_JWS_INVALID'
  | 'ERR_JWT_INVALID'
  | 'ERR_JOSE_ALG_NOT_ALLOWED'
  | 'ERR_JWKS_NO_MATCHING_KEY'
  | 'ERR_JWKS_MULTIPLE_MATCHING_KEYS'
  | 'ERR_SESSION_INVALID'
  | 'ERR_JWT_MISSING'

export type JwksErrorCode = 'ERR_JWKS_TIMEOUT' | 'ERR_JWKS_UNAVAILABLE' | 'ERR_JWKS_INVALID' | 'ERR_JWKS_NOT_LOADED' | 'ERR_SESSION_UNAVAILABLE'

export type UnauthorizedErrorCode = 'credentials_required' | 'credentials_bad_scheme' | 'credentials_bad_format' | 'invalid_token' | 'revoked_token'

/** The base of every error hanko-auth throws or hands to `next(err)`; `code` is the stable contract. */
export declare class HankoAuthError extends Error {
  readonly code: string
}

/** A token problem. */
export declare class JwtError extends HankoAuthError {
  readonly code: JwtErrorCode
  /** The claim that failed, for `ERR_JWT_CLAIM_VALIDATION_FAILED` and `ERR_JWT_EXPIRED`. */
  readonly claim?: string
  /** `'check_failed'`, `'missing'` or `'invalid'`. */
  readonly reason?: 'check_failed' | 'missing' | 'invalid'
}

/** The key set (or Hanko's session service) cannot be had: answer 503. */
export declare class JwksError extends HankoAuthError {
  readonly code: JwksErrorCode
  readonly status: 503
  readonly statusCode: 503
}

/** What the middleware passes to `next(err)` for a token problem (express-jwt's shape). */
export declare class UnauthorizedError extends HankoAuthError {
  readonly name: 'UnauthorizedError'
  readonly code: UnauthorizedErrorCode
  readonly status: 401
  readonly statusCode: 401
  readonly inner: JwtError
  readonly cause: JwtError
}

/** Express middleware protecting the routes after it. */
export declare function hankoAuth(jwksHost?: string, options?: HankoAuthOptions): HankoAuthMiddleware
export declare function hankoAuth(options: HankoAuthOptions): HankoAuthMiddleware

export declare function createVerifier(options?: VerifierOptions): Verifier

/** Verifies with a process-wide verifier (from `HANKO_API_URL` unless `options` say otherwise). */
export declare function verify<C extends object = HankoClaims>(token: string, options?: VerifierOptions): Promise<C>

/** A node-redis client (`createClient()` from the `redis` package, 4.6 or newer). */
export interface RedisClientLike {
  duplicate(): RedisClientLike
  sendCommand(args: string[]): Promise<unknown>
  connect(): Promise<unknown>
  readonly isOpen: boolean
  readonly isReady: boolean
  on(event: string, listener: (...args: any[]) => void): unknown
}

export interface RevocationListOptions {
  /** A `redis://` URL or a node-redis client you made: the list becomes fleet-wide. Default none (in-process). */
  redis?: string | RedisClientLike
  /** Prefix of the Redis keys and of the `<prefix>revocations` channel. Default `'hanko-auth:'`. */
  keyPrefix?: string
  /** How long a revoked user stays revoked (tokens issued before have expired by then). Default `'24h'`. */
  tokenLifetime?: Seconds
}

export interface RevocationListStats {
  sessions: number
  users: number
  store: 'memory' | 'connected' | 'disconnected'
  /** With `redis`: revocations not yet written (Redis was away); they are sent on reconnect. */
  pendingWrites?: number
  /** With `redis`: full loads (SCAN) done, on start and after each reconnect. */
  loads?: number
  /** With `redis`: revocations received on the channel, and messages that were not ours. */
  messages?: number
  ignoredMessages?: number
  writeFailures?: number
}

export declare class RevocationList {
  constructor(options?: RevocationListOptions)
  /** Tokens of this session fail from now until `until` (when they expire anyway). Default 24 h. */
  revokeSession(sessionId: string, until?: Date | number): Promise<void>
  /** Tokens of this user issued at or before `at` (default now) fail. */
  revokeUser(userId: string, at?: Date | number): Promise<void>
  /** Synchronous and local: whether these verified claims are revoked. */
  isRevoked(claims: Pick<HankoClaims, 'sub' | 'iat'> & { session_id?: string }): boolean
  /** Resolves once the list holds what Redis holds; rejects with `ERR_REVOCATIONS_UNAVAILABLE` after 5 s (it keeps trying). */
  ready(): Promise<void>
  /** Stops listening (a client you made stays open). */
  close(): Promise<void>
  /** Moves on every revocation added (the cache-hit path re-checks a token only when it moved). */
  readonly version: number
  stats(): RevocationListStats
}

export declare function createRevocationList(options?: RevocationListOptions): RevocationList

/** Hanko's webhook events (SPEC: Hanko backend v3.0.4+). */
export type HankoWebhookEvent =
  | 'session.create.flow'
  | 'session.create.admin'
  | 'session.delete.explicit.logout'
  | 'session.delete.explicit.revoke'
  | 'session.delete.admin.revoke'
  | 'session.delete.passive.expire'
  | 'session.delete.passive.limit'
  | 'user.create'
  | 'user.delete'
  | (string & {})

export interface HankoWebhooksOptions extends Pick<VerifierOptions, 'jwksHost' | 'jwksUri' | 'jwks' | 'allowInsecureHttp' | 'clockTolerance' | 'issuer'> {
  /** Where session ends and user deletions are written. */
  revocations?: RevocationList
  /** Sees every verified event (after the list acted on it); a throw goes to `next(err)` and Hanko retries. */
  onEvent?: (evt: HankoWebhookEvent, data: any) => void | Promise<void>
  /** The `aud` webhook tokens must carry (Hanko signs them with the session audience). Default not checked. */
  audience?: string | string[]
}

/** The handler for Hanko's webhooks: `app.post('/hanko/webhooks', hankoWebhooks(HANKO_API_URL, { revocations }))`. */
export declare function hankoWebhooks(jwksHost?: string, options?: HankoWebhooksOptions): HankoAuthHandler & { readonly verifier: Verifier }
export declare function hankoWebhooks(options: HankoWebhooksOptions): HankoAuthHandler & { readonly verifier: Verifier }
