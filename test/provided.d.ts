// Values test/global-setup.ts provides to the tests and to vitest.config.ts.
import 'vitest'

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string
    neonEndpoint: string
    upstashUrl: string
    upstashToken: string
    mockUpstreamUrl: string
    neonProbeEndpoint: string
    upstashProbeUrl: string
  }
}
