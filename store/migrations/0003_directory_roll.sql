-- Contact directory, electoral roll (by import generation) and the roll look-up audit log.
CREATE TABLE directory (
    category     TEXT NOT NULL,             -- premier_degre, second_degre, aed, aesh, atss
    departement  TEXT NOT NULL DEFAULT '',  -- '' when the address does not depend on it
    address      TEXT NOT NULL,
    PRIMARY KEY (category, departement)
);

-- One row per import; exactly one generation is active (in service) at a time.
CREATE TABLE roll_generations (
    id            INTEGER PRIMARY KEY,
    source        TEXT NOT NULL,
    started_at    TEXT NOT NULL,
    completed_at  TEXT,                     -- NULL while importing (or if interrupted)
    imported      INTEGER NOT NULL DEFAULT 0,
    rejected      INTEGER NOT NULL DEFAULT 0,
    active        INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX roll_generations_active ON roll_generations(active) WHERE active = 1;

-- key: sorted name tokens without particles; loose: sorted letters with particles;
-- rkey: key reversed (suffix look-ups for the one-typo suggestion).
CREATE TABLE roll_entries (
    generation     INTEGER NOT NULL,
    key            TEXT NOT NULL,
    loose          TEXT NOT NULL,
    rkey           TEXT NOT NULL,
    surname        TEXT NOT NULL,
    first_name     TEXT NOT NULL,
    ballot         TEXT NOT NULL,
    category       TEXT,
    departement    TEXT,
    establishment  TEXT
);
CREATE INDEX roll_entries_key ON roll_entries(generation, key);
CREATE INDEX roll_entries_loose ON roll_entries(generation, loose);
CREATE INDEX roll_entries_rkey ON roll_entries(generation, rkey);  -- covering: key = rkey reversed

-- Who looked someone up, when, found or not (never the name asked, never shown to voters).
CREATE TABLE roll_lookups (
    id       INTEGER PRIMARY KEY,
    user_id  INTEGER NOT NULL,
    at       TEXT NOT NULL,
    found    INTEGER NOT NULL
);
CREATE INDEX roll_lookups_user ON roll_lookups(user_id, at);
