CREATE TABLE `api_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`name` text NOT NULL,
	`key_hash` text NOT NULL,
	`prefix` text NOT NULL,
	`created_at` integer NOT NULL,
	`last_used_at` integer,
	`revoked_at` integer,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_keys_key_hash_unique` ON `api_keys` (`key_hash`);--> statement-breakpoint
CREATE INDEX `api_keys_user_idx` ON `api_keys` (`user_id`);--> statement-breakpoint
CREATE TABLE `conversation_sources` (
	`conversation_id` text NOT NULL,
	`source_id` text NOT NULL,
	PRIMARY KEY(`conversation_id`, `source_id`),
	FOREIGN KEY (`conversation_id`) REFERENCES `conversations`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`source_id`) REFERENCES `sources`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `conversation_sources_source_idx` ON `conversation_sources` (`source_id`);--> statement-breakpoint
CREATE TABLE `conversations` (
	`id` text PRIMARY KEY NOT NULL,
	`owner_id` text NOT NULL,
	`title` text,
	`title_source` text,
	`custom_title` text,
	`ai_title` text,
	`first_prompt` text,
	`project_path` text,
	`git_branch` text,
	`source` text NOT NULL,
	`agent_version` text,
	`models` text DEFAULT '[]' NOT NULL,
	`metadata` text DEFAULT '{}' NOT NULL,
	`workspace_id` text,
	`message_count` integer DEFAULT 0 NOT NULL,
	`input_tokens` integer DEFAULT 0 NOT NULL,
	`output_tokens` integer DEFAULT 0 NOT NULL,
	`cache_creation_tokens` integer DEFAULT 0 NOT NULL,
	`cache_read_tokens` integer DEFAULT 0 NOT NULL,
	`cost_usd` real DEFAULT 0 NOT NULL,
	`started_at` integer NOT NULL,
	`ended_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`owner_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `conversations_owner_updated_idx` ON `conversations` (`owner_id`,`updated_at`,`id`);--> statement-breakpoint
CREATE INDEX `conversations_owner_created_idx` ON `conversations` (`owner_id`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `conversations_owner_started_idx` ON `conversations` (`owner_id`,`started_at`,`id`);--> statement-breakpoint
CREATE INDEX `conversations_updated_idx` ON `conversations` (`updated_at`,`id`);--> statement-breakpoint
CREATE INDEX `conversations_project_idx` ON `conversations` (`project_path`,`updated_at`);--> statement-breakpoint
CREATE INDEX `conversations_workspace_idx` ON `conversations` (`workspace_id`);--> statement-breakpoint
CREATE TABLE `events` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`id` text NOT NULL,
	`owner_id` text NOT NULL,
	`event_id` text,
	`type` text NOT NULL,
	`session_id` text,
	`workspace_id` text,
	`machine_id` text,
	`project_id` text,
	`tool_name` text,
	`tool_use_id` text,
	`payload` text NOT NULL,
	`timestamp` integer NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`owner_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `events_id_idx` ON `events` (`id`);--> statement-breakpoint
CREATE UNIQUE INDEX `events_owner_event_idx` ON `events` (`owner_id`,`event_id`);--> statement-breakpoint
CREATE INDEX `events_session_idx` ON `events` (`session_id`,`timestamp`);--> statement-breakpoint
CREATE INDEX `events_project_idx` ON `events` (`project_id`,`timestamp`);--> statement-breakpoint
CREATE INDEX `events_project_session_idx` ON `events` (`project_id`,`session_id`);--> statement-breakpoint
CREATE TABLE `files` (
	`id` text PRIMARY KEY NOT NULL,
	`owner_id` text NOT NULL,
	`name` text NOT NULL,
	`stored_path` text NOT NULL,
	`source_key` text NOT NULL,
	`size` integer NOT NULL,
	`status` text NOT NULL,
	`bytes_done` integer DEFAULT 0 NOT NULL,
	`lines_done` integer DEFAULT 0 NOT NULL,
	`messages_added` integer DEFAULT 0 NOT NULL,
	`tool_calls_added` integer DEFAULT 0 NOT NULL,
	`lines_skipped` integer DEFAULT 0 NOT NULL,
	`error` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`finished_at` integer,
	FOREIGN KEY (`owner_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `files_owner_idx` ON `files` (`owner_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `import_errors` (
	`source_id` text NOT NULL,
	`line` integer NOT NULL,
	`offset` integer NOT NULL,
	`reason` text NOT NULL,
	`message` text NOT NULL,
	PRIMARY KEY(`source_id`, `line`),
	FOREIGN KEY (`source_id`) REFERENCES `sources`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `jobs` (
	`id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`payload` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`lease_until` integer,
	`last_error` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `jobs_status_idx` ON `jobs` (`status`,`created_at`);--> statement-breakpoint
CREATE TABLE `machines` (
	`id` text PRIMARY KEY NOT NULL,
	`owner_id` text NOT NULL,
	`hostname` text,
	`os` text,
	`ip` text,
	`last_seen_at` integer NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`owner_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `machines_owner_idx` ON `machines` (`owner_id`,`last_seen_at`);--> statement-breakpoint
CREATE TABLE `messages` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`id` text NOT NULL,
	`owner_id` text NOT NULL,
	`conversation_id` text NOT NULL,
	`parent_id` text,
	`logical_parent_id` text,
	`type` text NOT NULL,
	`subtype` text,
	`role` text,
	`content` text,
	`text` text DEFAULT '' NOT NULL,
	`model` text,
	`response_key` text,
	`input_tokens` integer DEFAULT 0 NOT NULL,
	`output_tokens` integer DEFAULT 0 NOT NULL,
	`cache_creation_tokens` integer DEFAULT 0 NOT NULL,
	`cache_read_tokens` integer DEFAULT 0 NOT NULL,
	`cost_usd` real DEFAULT 0 NOT NULL,
	`is_sidechain` integer DEFAULT false NOT NULL,
	`agent_id` text,
	`metadata` text DEFAULT '{}' NOT NULL,
	`timestamp` integer NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`owner_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`conversation_id`) REFERENCES `conversations`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `messages_id_idx` ON `messages` (`id`);--> statement-breakpoint
CREATE INDEX `messages_conversation_idx` ON `messages` (`conversation_id`,`timestamp`,`seq`);--> statement-breakpoint
CREATE INDEX `messages_response_idx` ON `messages` (`owner_id`,`response_key`);--> statement-breakpoint
CREATE INDEX `messages_owner_time_idx` ON `messages` (`owner_id`,`timestamp`);--> statement-breakpoint
CREATE INDEX `messages_usage_idx` ON `messages` (`owner_id`,`timestamp`,`model`,`conversation_id`,`input_tokens`,`output_tokens`,`cache_creation_tokens`,`cache_read_tokens`,`cost_usd`) WHERE (input_tokens + output_tokens + cache_creation_tokens + cache_read_tokens) > 0;--> statement-breakpoint
CREATE TABLE `projects` (
	`id` text PRIMARY KEY NOT NULL,
	`owner_id` text NOT NULL,
	`key` text NOT NULL,
	`name` text NOT NULL,
	`remote_url` text,
	`host` text,
	`repo_owner` text,
	`repo` text,
	`local_path` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`owner_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `projects_owner_key_idx` ON `projects` (`owner_id`,`key`);--> statement-breakpoint
CREATE TABLE `raw_lines` (
	`source_id` text NOT NULL,
	`line` integer NOT NULL,
	`offset` integer NOT NULL,
	`raw` blob NOT NULL,
	PRIMARY KEY(`source_id`, `line`),
	FOREIGN KEY (`source_id`) REFERENCES `sources`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `refresh_tokens` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`family_id` text NOT NULL,
	`token_hash` text NOT NULL,
	`expires_at` integer NOT NULL,
	`created_at` integer NOT NULL,
	`rotated_at` integer,
	`revoked_at` integer,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `refresh_tokens_token_hash_unique` ON `refresh_tokens` (`token_hash`);--> statement-breakpoint
CREATE INDEX `refresh_tokens_family_idx` ON `refresh_tokens` (`family_id`);--> statement-breakpoint
CREATE INDEX `refresh_tokens_user_idx` ON `refresh_tokens` (`user_id`);--> statement-breakpoint
CREATE TABLE `sources` (
	`id` text PRIMARY KEY NOT NULL,
	`owner_id` text NOT NULL,
	`source_key` text NOT NULL,
	`display_name` text NOT NULL,
	`bytes_done` integer DEFAULT 0 NOT NULL,
	`lines_done` integer DEFAULT 0 NOT NULL,
	`prefix_hash` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`owner_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `sources_owner_key_idx` ON `sources` (`owner_id`,`source_key`);--> statement-breakpoint
CREATE TABLE `summaries` (
	`owner_id` text NOT NULL,
	`leaf_uuid` text NOT NULL,
	`summary` text NOT NULL,
	PRIMARY KEY(`owner_id`, `leaf_uuid`),
	FOREIGN KEY (`owner_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `tool_calls` (
	`id` text NOT NULL,
	`owner_id` text NOT NULL,
	`conversation_id` text NOT NULL,
	`message_id` text,
	`name` text NOT NULL,
	`input` text,
	`result` text,
	`is_error` integer DEFAULT false NOT NULL,
	`started_at` integer,
	`ended_at` integer,
	`duration_ms` integer,
	`agent_id` text,
	PRIMARY KEY(`conversation_id`, `id`),
	FOREIGN KEY (`owner_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`conversation_id`) REFERENCES `conversations`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`message_id`) REFERENCES `messages`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `tool_calls_message_idx` ON `tool_calls` (`message_id`);--> statement-breakpoint
CREATE INDEX `tool_calls_name_idx` ON `tool_calls` (`name`);--> statement-breakpoint
CREATE TABLE `users` (
	`id` text PRIMARY KEY NOT NULL,
	`email` text NOT NULL,
	`password_hash` text NOT NULL,
	`display_name` text NOT NULL,
	`role` text NOT NULL,
	`disabled` integer DEFAULT false NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `users_email_unique` ON `users` (`email`);--> statement-breakpoint
CREATE TABLE `workspaces` (
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
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`machine_id`) REFERENCES `machines`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE INDEX `workspaces_project_idx` ON `workspaces` (`project_id`);--> statement-breakpoint
CREATE INDEX `workspaces_machine_idx` ON `workspaces` (`machine_id`);