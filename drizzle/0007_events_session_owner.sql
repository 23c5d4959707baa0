DROP INDEX `events_session_idx`;--> statement-breakpoint
CREATE INDEX `events_session_owner_idx` ON `events` (`session_id`,`owner_id`,`timestamp`);