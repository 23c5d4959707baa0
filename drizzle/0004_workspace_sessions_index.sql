DROP INDEX `conversations_workspace_idx`;--> statement-breakpoint
CREATE INDEX `conversations_workspace_started_idx` ON `conversations` (`workspace_id`,`started_at`);