-- Seeds: an Anthropic provider (Messages API) with two current models, their capability flags and prices
-- (USD per 1M tokens, absolute cache prices). It serves nothing until it has a key (PROVIDER_ANTHROPIC_API_KEY,
-- a stored key or the secret api_key_ref names); `npm run dev` points it at the bundled mock when none is set.
-- Idempotent: re-running leaves existing rows untouched.
INSERT INTO providers (name, type, base_url, api_key_ref, enabled, timeout_ms, max_retries)
VALUES ('anthropic', 'anthropic', 'https://api.anthropic.com/v1', 'PROVIDER_ANTHROPIC_API_KEY', true, 60000, 1)
ON CONFLICT (name) DO NOTHING;

INSERT INTO model_mappings (model, provider_id, upstream_model, priority, weight, enabled, capabilities)
SELECT m.model, p.id, m.model, 1, 1, true, m.capabilities::jsonb
FROM (VALUES
  ('claude-sonnet-4-6', '{"thinking": "budget", "default_max_tokens": 4096}'),
  ('claude-haiku-4-5', '{"thinking": "budget", "default_max_tokens": 4096}')
) AS m(model, capabilities)
CROSS JOIN providers p
WHERE p.name = 'anthropic'
ON CONFLICT (model, provider_id) DO NOTHING;

INSERT INTO prices (model, input_per_million, output_per_million, cache_read_per_million,
  cache_write_5m_per_million, cache_write_1h_per_million, effective_from)
VALUES
  ('claude-sonnet-4-6', 3.00, 15.00, 0.30, 3.75, 6.00, '2025-09-29T00:00:00Z'),
  ('claude-haiku-4-5', 1.00, 5.00, 0.10, 1.25, 2.00, '2025-10-15T00:00:00Z')
ON CONFLICT (model, effective_from) DO NOTHING;

-- A Gemini provider (generateContent / batchEmbedContents), same rules: no key, no traffic
-- (PROVIDER_GEMINI_API_KEY; `npm run dev` uses the bundled mock without one).
INSERT INTO providers (name, type, base_url, api_key_ref, enabled, timeout_ms, max_retries)
VALUES ('gemini', 'gemini', 'https://generativelanguage.googleapis.com/v1beta', 'PROVIDER_GEMINI_API_KEY', true, 60000, 1)
ON CONFLICT (name) DO NOTHING;

INSERT INTO model_mappings (model, provider_id, upstream_model, priority, weight, enabled, capabilities)
SELECT m.model, p.id, m.model, 1, 1, true, m.capabilities::jsonb
FROM (VALUES
  ('gemini-2.5-flash', '{"thinking": "budget"}'),
  ('gemini-embedding-001', '{}')
) AS m(model, capabilities)
CROSS JOIN providers p
WHERE p.name = 'gemini'
ON CONFLICT (model, provider_id) DO NOTHING;

INSERT INTO prices (model, input_per_million, output_per_million, cache_read_per_million, effective_from)
VALUES
  ('gemini-2.5-flash', 0.30, 2.50, 0.03, '2025-06-17T00:00:00Z'),
  ('gemini-embedding-001', 0.15, 0, NULL, '2025-07-14T00:00:00Z')
ON CONFLICT (model, effective_from) DO NOTHING;
