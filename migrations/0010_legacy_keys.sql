ALTER TABLE "api_keys" ADD COLUMN "legacy" boolean DEFAULT false NOT NULL;--> statement-breakpoint
-- Rows older than the column may hold a key in the unsigned format; the gateway clears this when it sees one signed.
UPDATE "api_keys" SET "legacy" = true;
