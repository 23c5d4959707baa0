-- Usage summed per owner, UTC day and model: what day, week, month and model reports read for the whole UTC days
-- inside their range (about a twentieth of usage_hourly's rows). A report by local day moves the hours of each UTC
-- day that fall on another local day from usage_hourly (usage_rollup for an hour holding a local midnight).
-- Triggers on usage_rollup keep it in step (so with every insert, usage change and delete of messages).
CREATE TABLE `usage_daily` (
  `owner_id` text NOT NULL,
  `day` integer NOT NULL,
  `model` text NOT NULL,
  `input_tokens` integer NOT NULL,
  `output_tokens` integer NOT NULL,
  `cache_creation_tokens` integer NOT NULL,
  `cache_read_tokens` integer NOT NULL,
  `cost_usd` real NOT NULL,
  PRIMARY KEY (`owner_id`, `day`, `model`)
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `usage_daily`
SELECT owner_id, bucket / 96, model, sum(input_tokens), sum(output_tokens), sum(cache_creation_tokens),
       sum(cache_read_tokens), sum(cost_usd)
FROM usage_rollup GROUP BY 1, 2, 3;
--> statement-breakpoint
CREATE TRIGGER `usage_daily_insert` AFTER INSERT ON `usage_rollup`
BEGIN
  INSERT INTO usage_daily VALUES (new.owner_id, new.bucket / 96, new.model, new.input_tokens, new.output_tokens,
    new.cache_creation_tokens, new.cache_read_tokens, new.cost_usd)
  ON CONFLICT DO UPDATE SET input_tokens = input_tokens + excluded.input_tokens,
    output_tokens = output_tokens + excluded.output_tokens,
    cache_creation_tokens = cache_creation_tokens + excluded.cache_creation_tokens,
    cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens,
    cost_usd = cost_usd + excluded.cost_usd;
END;
--> statement-breakpoint
-- the usual update (sums only, the row's day and model unchanged): one statement adding the difference
CREATE TRIGGER `usage_daily_update` AFTER UPDATE ON `usage_rollup`
WHEN old.owner_id = new.owner_id AND old.bucket / 96 = new.bucket / 96 AND old.model = new.model
BEGIN
  UPDATE usage_daily SET input_tokens = input_tokens - old.input_tokens + new.input_tokens,
    output_tokens = output_tokens - old.output_tokens + new.output_tokens,
    cache_creation_tokens = cache_creation_tokens - old.cache_creation_tokens + new.cache_creation_tokens,
    cache_read_tokens = cache_read_tokens - old.cache_read_tokens + new.cache_read_tokens,
    cost_usd = cost_usd - old.cost_usd + new.cost_usd
  WHERE owner_id = new.owner_id AND day = new.bucket / 96 AND model = new.model;
END;
--> statement-breakpoint
-- a row moved to another owner, day or model: out of the old one, into the new one
CREATE TRIGGER `usage_daily_move` AFTER UPDATE ON `usage_rollup`
WHEN old.owner_id != new.owner_id OR old.bucket / 96 != new.bucket / 96 OR old.model != new.model
BEGIN
  UPDATE usage_daily SET input_tokens = input_tokens - old.input_tokens, output_tokens = output_tokens - old.output_tokens,
    cache_creation_tokens = cache_creation_tokens - old.cache_creation_tokens,
    cache_read_tokens = cache_read_tokens - old.cache_read_tokens, cost_usd = cost_usd - old.cost_usd
  WHERE owner_id = old.owner_id AND day = old.bucket / 96 AND model = old.model;
  DELETE FROM usage_daily WHERE owner_id = old.owner_id AND day = old.bucket / 96 AND model = old.model
    AND input_tokens = 0 AND output_tokens = 0 AND cache_creation_tokens = 0 AND cache_read_tokens = 0;
  INSERT INTO usage_daily VALUES (new.owner_id, new.bucket / 96, new.model, new.input_tokens, new.output_tokens,
    new.cache_creation_tokens, new.cache_read_tokens, new.cost_usd)
  ON CONFLICT DO UPDATE SET input_tokens = input_tokens + excluded.input_tokens,
    output_tokens = output_tokens + excluded.output_tokens,
    cache_creation_tokens = cache_creation_tokens + excluded.cache_creation_tokens,
    cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens,
    cost_usd = cost_usd + excluded.cost_usd;
END;
--> statement-breakpoint
CREATE TRIGGER `usage_daily_delete` AFTER DELETE ON `usage_rollup`
BEGIN
  UPDATE usage_daily SET input_tokens = input_tokens - old.input_tokens, output_tokens = output_tokens - old.output_tokens,
    cache_creation_tokens = cache_creation_tokens - old.cache_creation_tokens,
    cache_read_tokens = cache_read_tokens - old.cache_read_tokens, cost_usd = cost_usd - old.cost_usd
  WHERE owner_id = old.owner_id AND day = old.bucket / 96 AND model = old.model;
  DELETE FROM usage_daily WHERE owner_id = old.owner_id AND day = old.bucket / 96 AND model = old.model
    AND input_tokens = 0 AND output_tokens = 0 AND cache_creation_tokens = 0 AND cache_read_tokens = 0;
END;
