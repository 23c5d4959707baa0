DROP INDEX `sources_owner_key_idx`;--> statement-breakpoint
ALTER TABLE `sources` ADD `replaced_at` integer;--> statement-breakpoint
CREATE UNIQUE INDEX `sources_owner_key_idx` ON `sources` (`owner_id`,`source_key`) WHERE "sources"."replaced_at" IS NULL;