CREATE TABLE "credits" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "credits_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"project_id" text NOT NULL,
	"amount_usd" numeric(14, 6) NOT NULL,
	"kind" text NOT NULL,
	"note" text,
	"code_id" uuid,
	"actor" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "redemption_codes" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"code_hash" text NOT NULL,
	"hint" text NOT NULL,
	"amount_usd" numeric(14, 6) NOT NULL,
	"project_id" text,
	"state" text DEFAULT 'active' NOT NULL,
	"expires_at" timestamp with time zone,
	"redeemed_project_id" text,
	"redeemed_key_id" uuid,
	"redeemed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "windows" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "price_ratio" numeric(12, 6) DEFAULT '1' NOT NULL;--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "prepaid_since" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "balance_alert_usd" numeric(14, 6);--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "windows" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
CREATE INDEX "credits_project_idx" ON "credits" USING btree ("project_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "redemption_codes_hash_idx" ON "redemption_codes" USING btree ("code_hash");--> statement-breakpoint
CREATE INDEX "redemption_codes_created_idx" ON "redemption_codes" USING btree ("created_at");--> statement-breakpoint
-- The credit ledger is append-only: a correction is a new (negative) row, never an edit.
CREATE FUNCTION "credits_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'credits is append-only'; END $$;--> statement-breakpoint
CREATE TRIGGER "credits_append_only" BEFORE UPDATE OR DELETE ON "credits" FOR EACH ROW EXECUTE FUNCTION "credits_append_only"();
