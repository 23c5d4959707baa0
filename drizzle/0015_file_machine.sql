ALTER TABLE `files` ADD `machine_id` text;--> statement-breakpoint
ALTER TABLE `files` ADD `machine_hostname` text;