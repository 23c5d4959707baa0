CREATE INDEX `files_owner_source_idx` ON `files` (`owner_id`,`source_key`,`created_at`);--> statement-breakpoint
CREATE INDEX `files_stored_path_idx` ON `files` (`stored_path`);