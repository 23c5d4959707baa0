-- Each session's event count, kept by triggers: the project hierarchy lists thousands of sessions with their counts,
-- and counting each session's events there took half of its time.
ALTER TABLE `conversations` ADD `event_count` integer DEFAULT 0 NOT NULL;
--> statement-breakpoint
UPDATE `conversations` SET `event_count` = (
  SELECT count(*) FROM events e WHERE e.session_id = conversations.id AND e.owner_id = conversations.owner_id)
WHERE id IN (SELECT session_id FROM events);
--> statement-breakpoint
-- a session's events are its owner's (another account may post to the same session id)
CREATE TRIGGER `events_count_insert` AFTER INSERT ON `events` WHEN new.session_id IS NOT NULL
BEGIN
  UPDATE conversations SET event_count = event_count + 1 WHERE id = new.session_id AND owner_id = new.owner_id;
END;
--> statement-breakpoint
CREATE TRIGGER `events_count_delete` AFTER DELETE ON `events` WHEN old.session_id IS NOT NULL
BEGIN
  UPDATE conversations SET event_count = event_count - 1 WHERE id = old.session_id AND owner_id = old.owner_id;
END;
--> statement-breakpoint
CREATE TRIGGER `events_count_move` AFTER UPDATE OF session_id, owner_id ON `events`
BEGIN
  UPDATE conversations SET event_count = event_count - 1 WHERE id = old.session_id AND owner_id = old.owner_id;
  UPDATE conversations SET event_count = event_count + 1 WHERE id = new.session_id AND owner_id = new.owner_id;
END;
--> statement-breakpoint
-- events may come before their session exists (a batch naming it, then the transcript's import)
CREATE TRIGGER `conversations_event_count` AFTER INSERT ON `conversations`
WHEN EXISTS (SELECT 1 FROM events e WHERE e.session_id = new.id AND e.owner_id = new.owner_id)
BEGIN
  UPDATE conversations SET event_count = (
    SELECT count(*) FROM events e WHERE e.session_id = new.id AND e.owner_id = new.owner_id)
  WHERE id = new.id;
END;
