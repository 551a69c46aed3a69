ALTER TABLE "prices" ADD COLUMN "cache_read_per_million" numeric(14, 6);--> statement-breakpoint
ALTER TABLE "prices" ADD COLUMN "cache_write_5m_per_million" numeric(14, 6);--> statement-breakpoint
ALTER TABLE "prices" ADD COLUMN "cache_write_1h_per_million" numeric(14, 6);--> statement-breakpoint
ALTER TABLE "prices" ADD COLUMN "long_context_threshold" integer;--> statement-breakpoint
ALTER TABLE "prices" ADD COLUMN "long_input_per_million" numeric(14, 6);--> statement-breakpoint
ALTER TABLE "prices" ADD COLUMN "long_output_per_million" numeric(14, 6);--> statement-breakpoint
ALTER TABLE "usage_daily" ADD COLUMN "cache_read_tokens" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "usage_daily" ADD COLUMN "cache_write_tokens" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "usage_daily" ADD COLUMN "reasoning_tokens" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "usage_logs" ADD COLUMN "cache_read_tokens" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "usage_logs" ADD COLUMN "cache_write_5m_tokens" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "usage_logs" ADD COLUMN "cache_write_1h_tokens" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "usage_logs" ADD COLUMN "reasoning_tokens" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "usage_logs" ADD COLUMN "usage_source" text DEFAULT 'upstream' NOT NULL;