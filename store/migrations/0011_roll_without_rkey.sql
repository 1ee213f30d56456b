-- The reversed key served one-typo suggestions, removed for privacy ("did you mean" revealed
-- who is on the roll): nothing reads it, and its index slowed every import by a third.
DROP INDEX roll_entries_rkey;
ALTER TABLE roll_entries DROP COLUMN rkey;
