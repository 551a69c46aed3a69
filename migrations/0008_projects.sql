CREATE TABLE "projects" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"rpm_limit" integer,
	"tpm_limit" integer,
	"daily_budget" numeric(14, 6),
	"monthly_budget" numeric(14, 6),
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
-- Every project_id keys already carry becomes a project without limits.
INSERT INTO "projects" ("id", "name") SELECT DISTINCT "project_id", "project_id" FROM "api_keys" ON CONFLICT DO NOTHING;
