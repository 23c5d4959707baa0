-- Full-text index over messages.text (external content: the text is stored once, in messages).
-- Inserts are indexed by the writers in the same transaction as the rows (in bulk per import chunk, which is
-- several times cheaper than a per-row trigger); deletes go through this trigger so the index never drifts.
CREATE VIRTUAL TABLE `messages_fts` USING fts5(`text`, content='messages', content_rowid='seq', tokenize='porter unicode61 remove_diacritics 2');
--> statement-breakpoint
CREATE TRIGGER `messages_fts_delete` AFTER DELETE ON `messages` BEGIN
  INSERT INTO `messages_fts`(`messages_fts`, rowid, `text`) VALUES ('delete', old.`seq`, old.`text`);
END;
