-- Each import chunk commits its own small full-text segment, and FTS5's default automerge (4) merged those segments
-- again at every level: about 40 % of an import's full-text cost. Merging 16 at a time cut indexing 200 MB of
-- transcripts in per-file chunks from 6.0 s to 4.7 s of CPU; the few more segments it leaves measured no slower to
-- query (a query's time goes to its doclists, not to the number of segments).
INSERT INTO `messages_fts`(`messages_fts`, `rank`) VALUES ('automerge', 16);
