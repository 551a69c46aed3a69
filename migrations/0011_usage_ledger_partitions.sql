-- Hand-written (drizzle-kit generated only the snapshot: it cannot express partitions). Converts an
-- existing usage_logs in place into a table partitioned by month on created_at, on Neon or any
-- Postgres ≥ 13: the old table is renamed, its rows copied into the monthly partitions (event_id
-- becomes uuid; the gateway always wrote UUIDs, anything else is mapped to the UUID of its MD5), the
-- id sequence carries on after the highest id, and the old table is dropped. The daily rollup gains the
-- project and the price version in its key and a charge column, and is rebuilt from the rows.
ALTER TABLE "usage_logs" RENAME TO "usage_logs_unpartitioned";--> statement-breakpoint
ALTER TABLE "usage_logs_unpartitioned" DROP CONSTRAINT IF EXISTS "usage_logs_pkey";--> statement-breakpoint
DROP INDEX IF EXISTS "usage_logs_event_idx";--> statement-breakpoint
DROP INDEX IF EXISTS "usage_logs_request_idx";--> statement-breakpoint
DROP INDEX IF EXISTS "usage_logs_key_created_idx";--> statement-breakpoint
DROP INDEX IF EXISTS "usage_logs_project_created_idx";--> statement-breakpoint
DROP INDEX IF EXISTS "usage_logs_created_idx";--> statement-breakpoint
ALTER TABLE "usage_logs_unpartitioned" ALTER COLUMN "id" DROP IDENTITY IF EXISTS;--> statement-breakpoint
CREATE TABLE "usage_logs" (
	"id" bigserial NOT NULL,
	"event_id" uuid NOT NULL,
	"request_id" text NOT NULL,
	"api_key_id" uuid NOT NULL,
	"project_id" text NOT NULL,
	"route" text NOT NULL,
	"model" text NOT NULL,
	"provider" text,
	"upstream_model" text,
	"status" integer NOT NULL,
	"error_code" text,
	"prompt_tokens" integer DEFAULT 0 NOT NULL,
	"completion_tokens" integer DEFAULT 0 NOT NULL,
	"total_tokens" integer DEFAULT 0 NOT NULL,
	"cache_read_tokens" integer DEFAULT 0 NOT NULL,
	"cache_write_5m_tokens" integer DEFAULT 0 NOT NULL,
	"cache_write_1h_tokens" integer DEFAULT 0 NOT NULL,
	"reasoning_tokens" integer DEFAULT 0 NOT NULL,
	"usage_source" text DEFAULT 'upstream' NOT NULL,
	"tokens_estimated" boolean DEFAULT false NOT NULL,
	"tokens_method" text,
	"cost_usd" numeric(20, 12) DEFAULT '0' NOT NULL,
	"charge_usd" numeric(20, 12) DEFAULT '0' NOT NULL,
	"price_model" text,
	"price_effective_from" timestamp with time zone,
	"latency_ms" integer NOT NULL,
	"ttfb_ms" integer,
	"stream" boolean DEFAULT false NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "usage_logs_pkey" PRIMARY KEY("created_at","id")
) PARTITION BY RANGE ("created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "usage_logs_event_idx" ON "usage_logs" USING btree ("event_id","created_at");--> statement-breakpoint
CREATE INDEX "usage_logs_request_idx" ON "usage_logs" USING btree ("request_id");--> statement-breakpoint
CREATE INDEX "usage_logs_key_created_idx" ON "usage_logs" USING btree ("api_key_id","created_at","id");--> statement-breakpoint
CREATE INDEX "usage_logs_project_created_idx" ON "usage_logs" USING btree ("project_id","created_at","id");--> statement-breakpoint
CREATE INDEX "usage_logs_model_created_idx" ON "usage_logs" USING btree ("model","created_at","id");--> statement-breakpoint
CREATE INDEX "usage_logs_errors_idx" ON "usage_logs" USING btree ("created_at","id") WHERE "usage_logs"."status" >= 400;--> statement-breakpoint
-- Rows outside every month partition (none, while the cron creates months ahead) land here; the cron
-- moves them into their month when it creates it.
CREATE TABLE "usage_logs_default" PARTITION OF "usage_logs" DEFAULT;--> statement-breakpoint
-- One partition per UTC month from the oldest row's month to two months ahead (the cron keeps adding).
DO $$
DECLARE
  m timestamptz;
BEGIN
  SELECT date_trunc('month', coalesce(min(created_at), now()) AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
    INTO m FROM "usage_logs_unpartitioned";
  WHILE m < (date_trunc('month', now() AT TIME ZONE 'UTC') + interval '3 months') AT TIME ZONE 'UTC' LOOP
    EXECUTE format(
      'CREATE TABLE %I PARTITION OF "usage_logs" FOR VALUES FROM (%L) TO (%L)',
      'usage_logs_' || to_char(m AT TIME ZONE 'UTC', 'YYYY_MM'),
      m,
      ((m AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC'
    );
    m := ((m AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC';
  END LOOP;
END $$;--> statement-breakpoint
INSERT INTO "usage_logs" ("id", "event_id", "request_id", "api_key_id", "project_id", "route", "model", "provider",
  "upstream_model", "status", "error_code", "prompt_tokens", "completion_tokens", "total_tokens", "cache_read_tokens",
  "cache_write_5m_tokens", "cache_write_1h_tokens", "reasoning_tokens", "usage_source", "tokens_estimated",
  "tokens_method", "cost_usd", "charge_usd", "price_model", "price_effective_from", "latency_ms", "ttfb_ms", "stream",
  "attempts", "created_at")
SELECT "id",
  CASE WHEN "event_id" ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN "event_id"::uuid
    ELSE md5("event_id")::uuid END,
  "request_id", "api_key_id", "project_id", "route", "model", "provider", "upstream_model", "status", "error_code",
  "prompt_tokens", "completion_tokens", "total_tokens", "cache_read_tokens", "cache_write_5m_tokens",
  "cache_write_1h_tokens", "reasoning_tokens", "usage_source", "tokens_estimated", "tokens_method", "cost_usd",
  "cost_usd", "price_model", "price_effective_from", "latency_ms", "ttfb_ms", "stream", "attempts", "created_at"
FROM "usage_logs_unpartitioned";--> statement-breakpoint
SELECT setval(pg_get_serial_sequence('usage_logs', 'id'), coalesce(max("id"), 0) + 1, false) FROM "usage_logs";--> statement-breakpoint
DROP TABLE "usage_logs_unpartitioned";--> statement-breakpoint
ALTER TABLE "usage_daily" DROP CONSTRAINT "usage_daily_day_api_key_id_model_provider_pk";--> statement-breakpoint
ALTER TABLE "usage_daily" ADD COLUMN "price_version" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "usage_daily" ADD COLUMN "charge_usd" numeric(24, 12) DEFAULT '0' NOT NULL;--> statement-breakpoint
TRUNCATE "usage_daily";--> statement-breakpoint
ALTER TABLE "usage_daily" ADD CONSTRAINT "usage_daily_pkey" PRIMARY KEY("day","project_id","api_key_id","model","provider","price_version");--> statement-breakpoint
CREATE INDEX "usage_daily_key_idx" ON "usage_daily" USING btree ("api_key_id","day");--> statement-breakpoint
INSERT INTO "usage_daily" ("day", "project_id", "api_key_id", "model", "provider", "price_version", "requests",
  "success", "failed", "prompt_tokens", "completion_tokens", "total_tokens", "cache_read_tokens", "cache_write_tokens",
  "reasoning_tokens", "cost_usd", "charge_usd")
SELECT ("created_at" AT TIME ZONE 'UTC')::date, "project_id", "api_key_id", "model", coalesce("provider", ''),
  coalesce("price_model" || '@' || to_char("price_effective_from" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), ''),
  count(*), count(*) FILTER (WHERE "status" >= 200 AND "status" < 400),
  count(*) FILTER (WHERE "status" < 200 OR "status" >= 400), sum("prompt_tokens"), sum("completion_tokens"),
  sum("total_tokens"), sum("cache_read_tokens"), sum("cache_write_5m_tokens" + "cache_write_1h_tokens"),
  sum("reasoning_tokens"), sum("cost_usd"), sum("charge_usd")
FROM "usage_logs"
GROUP BY 1, 2, 3, 4, 5, 6;
