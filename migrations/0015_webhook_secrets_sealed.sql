ALTER TABLE "webhooks" ADD COLUMN "kek_version" text;--> statement-breakpoint
ALTER TABLE "webhooks" ADD COLUMN "secret_hint" text;