PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_workspaces` (
	`id` text PRIMARY KEY NOT NULL,
	`owner_id` text NOT NULL,
	`project_id` text NOT NULL,
	`machine_id` text,
	`path` text NOT NULL,
	`branch` text,
	`commit_sha` text,
	`last_seen_at` integer NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`owner_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
INSERT INTO `__new_workspaces`("id", "owner_id", "project_id", "machine_id", "path", "branch", "commit_sha", "last_seen_at", "created_at") SELECT "id", "owner_id", "project_id", "machine_id", "path", "branch", "commit_sha", "last_seen_at", "created_at" FROM `workspaces`;--> statement-breakpoint
DROP TABLE `workspaces`;--> statement-breakpoint
ALTER TABLE `__new_workspaces` RENAME TO `workspaces`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE INDEX `workspaces_project_idx` ON `workspaces` (`project_id`);--> statement-breakpoint
CREATE INDEX `workspaces_machine_idx` ON `workspaces` (`machine_id`);--> statement-breakpoint
CREATE TABLE `__new_machines` (
	`id` text NOT NULL,
	`owner_id` text NOT NULL,
	`hostname` text,
	`os` text,
	`ip` text,
	`last_seen_at` integer NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`owner_id`, `id`),
	FOREIGN KEY (`owner_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
INSERT INTO `__new_machines`("id", "owner_id", "hostname", "os", "ip", "last_seen_at", "created_at") SELECT "id", "owner_id", "hostname", "os", "ip", "last_seen_at", "created_at" FROM `machines`;--> statement-breakpoint
DROP TABLE `machines`;--> statement-breakpoint
ALTER TABLE `__new_machines` RENAME TO `machines`;--> statement-breakpoint
CREATE INDEX `machines_owner_idx` ON `machines` (`owner_id`,`last_seen_at`);