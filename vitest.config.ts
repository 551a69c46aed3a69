import { cloudflareTest } from '@cloudflare/vitest-plugin'
import { defineConfig } from 'vitest/config'

// The Worker under test reaches the local Neon and Upstash endpoints (and the mock upstream) that
// test/global-setup.ts starts; their addresses arrive here through vitest's provide/inject.
export default defineConfig({
  plugins: [
    cloudflareTest(({ inject }) => ({
      wrangler: { configPath: './wrangler.toml' },
      miniflare: {
        bindings: {
          DATABASE_URL: inject<string>('databaseUrl'),
          NEON_HTTP_ENDPOINT: inject<string>('neonEndpoint'),
          UPSTASH_REDIS_REST_URL: inject<string>('upstashUrl'),
          UPSTASH_REDIS_REST_TOKEN: inject<string>('upstashToken'),
          MOCK_UPSTREAM_URL: inject<string>('mockUpstreamUrl'),
          ADMIN_TOKEN: 'test-admin-token',
          TEST_UPSTREAM_KEY: 'sk-upstream-secret-for-tests',
          REDIS_FAIL_OPEN: 'false',
        },
      },
    })),
  ],
  test: {
    globalSetup: ['./test/global-setup.ts'],
    include: ['test/**/*.test.ts'],
    // The Worker logs one JSON line per request; show logs only for tests that fail.
    silent: 'passed-only',
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
})
