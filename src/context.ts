import type { KeyRecord } from './db/keys'
import type { Deps } from './deps'
import type { Dialect } from './protocols/renderers'
import type { Conversation } from './protocols/conversation'
import type { Target } from './upstream/targets'
import type { Meter } from './usage/meter'
import type { Hold } from './redis/scripts/guard'

export type Bindings = CloudflareBindings & Record<string, unknown>

export type AppEnv = {
  Bindings: Bindings
  Variables: {
    requestId: string
    // The protocol the client speaks on this route, which decides the shape of every error.
    dialect: Dialect
    deps: Deps
    apiKey: KeyRecord
    // The config version the cached key/catalog were loaded under; the guard checks it atomically.
    configVersion: string
    // The request's usage row, metrics and after-response facts (usage/meter.ts): stages report to it.
    meter: Meter
    body: Record<string, unknown>
    // The client's own body when `body` is its translation (an Anthropic Messages request).
    inbound: Record<string, unknown>
    targets: Target[]
    // The conversation the request belongs to (pipeline/identify.ts); unset on routes without one.
    conversation: Conversation | undefined
    // The raw pin of the stored response a Responses request continues, as the guard read it (null: none;
    // unset: the guard did not read it).
    responsePin: string | null | undefined
    hold: Hold | null
    // The guard's token estimate (prompt, completion allowance), made before its Redis step and reused by
    // the relay (which estimates for itself where no guard ran).
    estimate: { prompt: number; completion: number } | undefined
    // Set when the guard's Redis step is still deciding while the handler runs (pipeline/overlap.ts): the
    // target to start early, and the decision, which rejects with the refusal.
    admission: { target: Target; decided: Promise<void> } | undefined
    // x-ratelimit-* headers decided by the guard, applied to whatever response goes out.
    limitHeaders: Record<string, string>
    // Admin routes: fingerprint of the admin token (first 12 hex of its SHA-256), the audit log's actor.
    adminActor: string
  }
}
