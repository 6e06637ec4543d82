import type { KeyObject } from 'node:crypto'
import type { Algorithm, HankoClaims, HankoWebhookEvent } from './index'

export interface TestIssuerOptions {
  /** Algorithm of the keys it makes. Default `'RS256'` (Hanko's). */
  algorithm?: Algorithm
  /** RSA key size. Default `4096` (Hanko's). */
  modulusLength?: number
  /** `aud` of minted tokens. Default `['localhost']`. */
  audience?: string[]
  /** Port on 127.0.0.1. Default `0` (any free port). */
  port?: number
}

export interface TestIssuer {
  /** The Hanko API URL to pass as `jwksHost`. */
  readonly url: string
  readonly jwksUri: string
  readonly algorithm: Algorithm
  /** The kid new tokens are signed with. */
  readonly kid: string
  readonly jwks: { keys: Record<string, unknown>[] }
  readonly privateKey: KeyObject
  /** Requests served so far. */
  readonly requests: { jwks: number; sessions: number }
  /** A signed, Hanko-shaped token; `claims` and `header` override the defaults (`undefined` removes one). */
  token(claims?: Partial<HankoClaims> & Record<string, unknown>, header?: Record<string, unknown>): string
  /** A signed Hanko-shaped webhook token (`sub: "hanko webhooks"`, `exp` = `iat` + 5 min, `evt`, `data`). */
  webhookToken(event: HankoWebhookEvent, data?: Record<string, unknown>, claims?: Record<string, unknown>): string
  /** Signs a webhook and POSTs `{ token, event }` as JSON to `url`, as Hanko does. */
  webhook(
    event: HankoWebhookEvent,
    data: Record<string, unknown>,
    options: { url: string; claims?: Record<string, unknown> },
  ): Promise<{ status: number; body: unknown }>
  /** Adds a key (old ones stay published) and signs new tokens with it; resolves to its kid. */
  rotate(): Promise<string>
  /** `POST /sessions/validate` answers `{ is_valid: false }` for this session from now on. */
  revokeSession(sessionId: string): void
  close(): Promise<void>
}

/** Starts a loopback stand-in for Hanko: a real JWKS endpoint and `/sessions/validate`. */
export declare function createTestIssuer(options?: TestIssuerOptions): Promise<TestIssuer>

/** Signs a compact JWS with node:crypto (for forging test tokens with any header). */
export declare function signJws(header: Record<string, unknown>, payload: Record<string, unknown> | string, privateKey: KeyObject, alg?: Algorithm): string
