import { cloudflareTest } from '@cloudflare/vitest-plugin'
import { configDefaults, defineConfig } from 'vitest/config'

// Three projects, all run by `npm test` (`vitest run`; pick one with `--project workers|runtime|browser`):
// - workers: the Worker under test inside workerd. It reaches the local Neon and Upstash endpoints (and
//   the mock upstream) that test/global-setup.ts starts; their addresses arrive through provide/inject.
// - runtime: plain Node. The production bundle under a bare `workerd serve` on the local stack
//   (test/runtime/).
// - browser: plain Node. Starts the whole local stack the way a user does (`npm run dev`), drives the
//   admin page in headless Chromium (test/browser/) and replays the seed's curls (test/dev/).
// wrangler.toml declares these secrets as required; the tests bind their real values below (miniflare
// bindings win), so placeholders here only keep wrangler from warning once per test file.
for (const name of ['DATABASE_URL', 'UPSTASH_REDIS_REST_URL', 'UPSTASH_REDIS_REST_TOKEN', 'ADMIN_TOKEN']) {
  process.env[name] ??= 'bound-by-vitest-config'
}

export default defineConfig({
  test: {
    // The Worker logs one JSON line per request; show logs only for tests that fail.
    silent: 'passed-only',
    projects: [
      {
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
                PROVIDER_TESTS_API_KEY: 'sk-upstream-secret-for-tests',
                // Seals provider keys stored through the admin API (test/helpers/secrets.ts has a second one).
                SECRETS_KEY: 'WMx6pezBxfEL8+jmBuVHB1jcP7UTKNG+yuMZ0tbRXGU=',
                REDIS_FAIL_OPEN: 'false',
                // 'auto' would turn on whenever this loaded machine makes the local Redis look far, and the
                // tests that count calls before the upstream would depend on the load: off here, and
                // test/runtime/guard-overlap.test.ts exercises it with a Redis made far on purpose.
                GUARD_OVERLAP: 'off',
                // The mock upstream listens on 127.0.0.1.
                ALLOW_PRIVATE_UPSTREAMS: 'true',
              },
            },
          })),
        ],
        test: {
          name: 'workers',
          globalSetup: ['./test/global-setup.ts'],
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'test/browser/**', 'test/dev/**', 'test/runtime/**'],
          testTimeout: 20_000,
          hookTimeout: 60_000,
        },
      },
      {
        // The production bundle under a bare workerd (what `npm run bench` runs): behaviour that
        // `wrangler dev` and the workers pool do not show, such as a client's disconnect.
        test: {
          name: 'runtime',
          environment: 'node',
          include: ['test/runtime/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 180_000,
        },
      },
      {
        test: {
          name: 'browser',
          environment: 'node',
          include: ['test/browser/**/*.test.ts', 'test/dev/**/*.test.ts'],
          // Starting the stack (wrangler's first build included) can take a while on a cold machine.
          testTimeout: 120_000,
          hookTimeout: 150_000,
        },
      },
    ],
  },
})
