CREATE TABLE "usage_key_daily" (
	"day" date NOT NULL,
	"project_id" text NOT NULL,
	"api_key_id" uuid NOT NULL,
	"requests" bigint DEFAULT 0 NOT NULL,
	"success" bigint DEFAULT 0 NOT NULL,
	"failed" bigint DEFAULT 0 NOT NULL,
	"prompt_tokens" bigint DEFAULT 0 NOT NULL,
	"completion_tokens" bigint DEFAULT 0 NOT NULL,
	"total_tokens" bigint DEFAULT 0 NOT NULL,
	"cache_read_tokens" bigint DEFAULT 0 NOT NULL,
	"cache_write_tokens" bigint DEFAULT 0 NOT NULL,
	"reasoning_tokens" bigint DEFAULT 0 NOT NULL,
	"cost_usd" numeric(24, 12) DEFAULT '0' NOT NULL,
	"charge_usd" numeric(24, 12) DEFAULT '0' NOT NULL,
	CONSTRAINT "usage_key_daily_pkey" PRIMARY KEY("day","project_id","api_key_id")
);
--> statement-breakpoint
CREATE INDEX "usage_key_daily_key_idx" ON "usage_key_daily" USING btree ("api_key_id","day");--> statement-breakpoint
-- Hand-added: the key rollup starts as usage_daily summed over models, providers and prices.
INSERT INTO "usage_key_daily" ("day", "project_id", "api_key_id", "requests", "success", "failed", "prompt_tokens",
  "completion_tokens", "total_tokens", "cache_read_tokens", "cache_write_tokens", "reasoning_tokens", "cost_usd",
  "charge_usd")
SELECT "day", "project_id", "api_key_id", sum("requests"), sum("success"), sum("failed"), sum("prompt_tokens"),
  sum("completion_tokens"), sum("total_tokens"), sum("cache_read_tokens"), sum("cache_write_tokens"),
  sum("reasoning_tokens"), sum("cost_usd"), sum("charge_usd")
FROM "usage_daily"
GROUP BY 1, 2, 3;
