-- Seeds for a new nexusai database: two OpenAI providers, three models routed main-first, and prices
-- (USD per 1M tokens). Idempotent: re-running leaves existing rows untouched.
INSERT INTO providers (name, type, base_url, api_key_ref, enabled, timeout_ms, max_retries)
VALUES
  ('openai-main', 'openai', 'https://api.openai.com/v1', 'PROVIDER_OPENAI_MAIN_API_KEY', true, 30000, 1),
  ('openai-backup', 'openai', 'https://api.openai.com/v1', 'PROVIDER_OPENAI_BACKUP_API_KEY', true, 30000, 1)
ON CONFLICT (name) DO NOTHING;

INSERT INTO model_mappings (model, provider_id, upstream_model, priority, weight, enabled)
SELECT m.model, p.id, m.model, CASE p.name WHEN 'openai-main' THEN 1 ELSE 2 END, 1, true
FROM (VALUES ('gpt-4o-mini'), ('gpt-4o'), ('text-embedding-3-small')) AS m(model)
CROSS JOIN providers p
WHERE p.name IN ('openai-main', 'openai-backup')
ON CONFLICT (model, provider_id) DO NOTHING;

INSERT INTO prices (model, input_per_million, output_per_million, effective_from)
VALUES
  ('gpt-4o-mini', 0.15, 0.60, '2024-07-18T00:00:00Z'),
  ('gpt-4o', 2.50, 10.00, '2024-05-13T00:00:00Z'),
  ('text-embedding-3-small', 0.02, 0, '2024-01-25T00:00:00Z')
ON CONFLICT (model, effective_from) DO NOTHING;
