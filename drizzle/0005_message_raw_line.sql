-- Imported messages point at their transcript line (raw_lines) and leave content null: the line already holds it.
-- Rows stored before keep their content (no reference), and are served as before.
-- The response index only needs the line that carries each response's usage.
DROP INDEX `messages_response_idx`;--> statement-breakpoint
ALTER TABLE `messages` ADD `raw_source_id` text;--> statement-breakpoint
ALTER TABLE `messages` ADD `raw_line` integer;--> statement-breakpoint
CREATE INDEX `messages_response_idx` ON `messages` (`owner_id`,`response_key`) WHERE "messages"."response_key" IS NOT NULL AND "messages"."input_tokens" + "messages"."output_tokens" + "messages"."cache_creation_tokens" + "messages"."cache_read_tokens" > 0;