-- Usage summed per owner, quarter hour, conversation and model: what usage reports read, instead of every message.
-- A quarter hour divides every time zone's offset, so buckets map exactly to local days in any zone.
-- Triggers on messages keep it in step with every insert, usage change and delete (conversation deletes cascade).
CREATE TABLE `usage_rollup` (
  `owner_id` text NOT NULL,
  `bucket` integer NOT NULL,
  `conversation_id` text NOT NULL,
  `model` text NOT NULL,
  `input_tokens` integer NOT NULL,
  `output_tokens` integer NOT NULL,
  `cache_creation_tokens` integer NOT NULL,
  `cache_read_tokens` integer NOT NULL,
  `cost_usd` real NOT NULL,
  PRIMARY KEY (`owner_id`, `bucket`, `conversation_id`, `model`)
) WITHOUT ROWID;
--> statement-breakpoint
CREATE INDEX `usage_rollup_conversation_idx` ON `usage_rollup` (`conversation_id`);
--> statement-breakpoint
INSERT INTO `usage_rollup`
SELECT owner_id, timestamp / 900000, conversation_id, coalesce(model, 'unknown'),
       sum(input_tokens), sum(output_tokens), sum(cache_creation_tokens), sum(cache_read_tokens), sum(cost_usd)
FROM messages WHERE input_tokens + output_tokens + cache_creation_tokens + cache_read_tokens > 0
GROUP BY 1, 2, 3, 4;
--> statement-breakpoint
CREATE TRIGGER `usage_rollup_insert` AFTER INSERT ON `messages`
WHEN new.input_tokens + new.output_tokens + new.cache_creation_tokens + new.cache_read_tokens > 0
BEGIN
  INSERT INTO usage_rollup VALUES (new.owner_id, new.timestamp / 900000, new.conversation_id, coalesce(new.model, 'unknown'),
    new.input_tokens, new.output_tokens, new.cache_creation_tokens, new.cache_read_tokens, new.cost_usd)
  ON CONFLICT DO UPDATE SET input_tokens = input_tokens + excluded.input_tokens,
    output_tokens = output_tokens + excluded.output_tokens,
    cache_creation_tokens = cache_creation_tokens + excluded.cache_creation_tokens,
    cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens,
    cost_usd = cost_usd + excluded.cost_usd;
END;
--> statement-breakpoint
CREATE TRIGGER `usage_rollup_delete` AFTER DELETE ON `messages`
WHEN old.input_tokens + old.output_tokens + old.cache_creation_tokens + old.cache_read_tokens > 0
BEGIN
  UPDATE usage_rollup SET input_tokens = input_tokens - old.input_tokens, output_tokens = output_tokens - old.output_tokens,
    cache_creation_tokens = cache_creation_tokens - old.cache_creation_tokens,
    cache_read_tokens = cache_read_tokens - old.cache_read_tokens, cost_usd = cost_usd - old.cost_usd
  WHERE owner_id = old.owner_id AND bucket = old.timestamp / 900000 AND conversation_id = old.conversation_id
    AND model = coalesce(old.model, 'unknown');
  DELETE FROM usage_rollup
  WHERE owner_id = old.owner_id AND bucket = old.timestamp / 900000 AND conversation_id = old.conversation_id
    AND model = coalesce(old.model, 'unknown')
    AND input_tokens = 0 AND output_tokens = 0 AND cache_creation_tokens = 0 AND cache_read_tokens = 0;
END;
--> statement-breakpoint
-- an update moves the old figures out and the new ones in, each only when it carries usage
CREATE TRIGGER `usage_rollup_update` AFTER UPDATE OF owner_id, conversation_id, model, timestamp, input_tokens,
  output_tokens, cache_creation_tokens, cache_read_tokens, cost_usd ON `messages`
BEGIN
  UPDATE usage_rollup SET input_tokens = input_tokens - old.input_tokens, output_tokens = output_tokens - old.output_tokens,
    cache_creation_tokens = cache_creation_tokens - old.cache_creation_tokens,
    cache_read_tokens = cache_read_tokens - old.cache_read_tokens, cost_usd = cost_usd - old.cost_usd
  WHERE owner_id = old.owner_id AND bucket = old.timestamp / 900000 AND conversation_id = old.conversation_id
    AND model = coalesce(old.model, 'unknown')
    AND old.input_tokens + old.output_tokens + old.cache_creation_tokens + old.cache_read_tokens > 0;
  DELETE FROM usage_rollup
  WHERE owner_id = old.owner_id AND bucket = old.timestamp / 900000 AND conversation_id = old.conversation_id
    AND model = coalesce(old.model, 'unknown')
    AND input_tokens = 0 AND output_tokens = 0 AND cache_creation_tokens = 0 AND cache_read_tokens = 0;
  INSERT INTO usage_rollup
  SELECT new.owner_id, new.timestamp / 900000, new.conversation_id, coalesce(new.model, 'unknown'),
    new.input_tokens, new.output_tokens, new.cache_creation_tokens, new.cache_read_tokens, new.cost_usd
  WHERE new.input_tokens + new.output_tokens + new.cache_creation_tokens + new.cache_read_tokens > 0
  ON CONFLICT DO UPDATE SET input_tokens = input_tokens + excluded.input_tokens,
    output_tokens = output_tokens + excluded.output_tokens,
    cache_creation_tokens = cache_creation_tokens + excluded.cache_creation_tokens,
    cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens,
    cost_usd = cost_usd + excluded.cost_usd;
END;
