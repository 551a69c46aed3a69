ALTER TABLE "model_mappings" ADD COLUMN "max_output_tokens" integer;--> statement-breakpoint
ALTER TABLE "usage_logs" ADD COLUMN "tokens_method" text;--> statement-breakpoint
ALTER TABLE "usage_logs" ADD COLUMN "price_model" text;--> statement-breakpoint
ALTER TABLE "usage_logs" ADD COLUMN "price_effective_from" timestamp with time zone;