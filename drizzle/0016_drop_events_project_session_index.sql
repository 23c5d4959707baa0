-- Sessions keep their event count (0013): nothing counts a project's events per session any more, and every event
-- insert paid for this index.
DROP INDEX `events_project_session_idx`;