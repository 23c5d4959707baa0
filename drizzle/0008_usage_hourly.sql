-- Usage summed per owner, hour and model: what day, week, month and model reports read when every bound and every
-- offset of the zone falls on a whole hour (most zones), about a fifth of usage_rollup's rows over the same range.
-- Triggers on usage_rollup keep it in step (so with every insert, usage change and delete of messages).
CREATE TABLE `usage_hourly` (
  `owner_id` text NOT NULL,
  `hour` integer NOT NULL,
  `model` text NOT NULL,
  `input_tokens` integer NOT NULL,
  `output_tokens` integer NOT NULL,
  `cache_creation_tokens` integer NOT NULL,
  `cache_read_tokens` integer NOT NULL,
  `cost_usd` real NOT NULL,
  PRIMARY KEY (`owner_id`, `hour`, `model`)
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `usage_hourly`
SELECT owner_id, bucket / 4, model, sum(input_tokens), sum(output_tokens), sum(cache_creation_tokens),
       sum(cache_read_tokens), sum(cost_usd)
FROM usage_rollup GROUP BY 1, 2, 3;
--> statement-breakpoint
CREATE TRIGGER `usage_hourly_insert` AFTER INSERT ON `usage_rollup`
BEGIN
  INSERT INTO usage_hourly VALUES (new.owner_id, new.bucket / 4, new.model, new.input_tokens, new.output_tokens,
    new.cache_creation_tokens, new.cache_read_tokens, new.cost_usd)
  ON CONFLICT DO UPDATE SET input_tokens = input_tokens + excluded.input_tokens,
    output_tokens = output_tokens + excluded.output_tokens,
    cache_creation_tokens = cache_creation_tokens + excluded.cache_creation_tokens,
    cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens,
    cost_usd = cost_usd + excluded.cost_usd;
END;
--> statement-breakpoint
-- the usual update (sums only, the row's hour and model unchanged): one statement adding the difference
CREATE TRIGGER `usage_hourly_update` AFTER UPDATE ON `usage_rollup`
WHEN old.owner_id = new.owner_id AND old.bucket / 4 = new.bucket / 4 AND old.model = new.model
BEGIN
  UPDATE usage_hourly SET input_tokens = input_tokens - old.input_tokens + new.input_tokens,
    output_tokens = output_tokens - old.output_tokens + new.output_tokens,
    cache_creation_tokens = cache_creation_tokens - old.cache_creation_tokens + new.cache_creation_tokens,
    cache_read_tokens = cache_read_tokens - old.cache_read_tokens + new.cache_read_tokens,
    cost_usd = cost_usd - old.cost_usd + new.cost_usd
  WHERE owner_id = new.owner_id AND hour = new.bucket / 4 AND model = new.model;
END;
--> statement-breakpoint
-- a row moved to another owner, hour or model: out of the old one, into the new one
CREATE TRIGGER `usage_hourly_move` AFTER UPDATE ON `usage_rollup`
WHEN old.owner_id != new.owner_id OR old.bucket / 4 != new.bucket / 4 OR old.model != new.model
BEGIN
  UPDATE usage_hourly SET input_tokens = input_tokens - old.input_tokens, output_tokens = output_tokens - old.output_tokens,
    cache_creation_tokens = cache_creation_tokens - old.cache_creation_tokens,
    cache_read_tokens = cache_read_tokens - old.cache_read_tokens, cost_usd = cost_usd - old.cost_usd
  WHERE owner_id = old.owner_id AND hour = old.bucket / 4 AND model = old.model;
  DELETE FROM usage_hourly WHERE owner_id = old.owner_id AND hour = old.bucket / 4 AND model = old.model
    AND input_tokens = 0 AND output_tokens = 0 AND cache_creation_tokens = 0 AND cache_read_tokens = 0;
  INSERT INTO usage_hourly VALUES (new.owner_id, new.bucket / 4, new.model, new.input_tokens, new.output_tokens,
    new.cache_creation_tokens, new.cache_read_tokens, new.cost_usd)
  ON CONFLICT DO UPDATE SET input_tokens = input_tokens + excluded.input_tokens,
    output_tokens = output_tokens + excluded.output_tokens,
    cache_creation_tokens = cache_creation_tokens + excluded.cache_creation_tokens,
    cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens,
    cost_usd = cost_usd + excluded.cost_usd;
END;
--> statement-breakpoint
CREATE TRIGGER `usage_hourly_delete` AFTER DELETE ON `usage_rollup`
BEGIN
  UPDATE usage_hourly SET input_tokens = input_tokens - old.input_tokens, output_tokens = output_tokens - old.output_tokens,
    cache_creation_tokens = cache_creation_tokens - old.cache_creation_tokens,
    cache_read_tokens = cache_read_tokens - old.cache_read_tokens, cost_usd = cost_usd - old.cost_usd
  WHERE owner_id = old.owner_id AND hour = old.bucket / 4 AND model = old.model;
  DELETE FROM usage_hourly WHERE owner_id = old.owner_id AND hour = old.bucket / 4 AND model = old.model
    AND input_tokens = 0 AND output_tokens = 0 AND cache_creation_tokens = 0 AND cache_read_tokens = 0;
END;
