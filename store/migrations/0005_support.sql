-- Support: handoffs to a person (one forum topic each), transcripts kept for support, bans.
-- Every table refers to users ON DELETE CASCADE, so erasing a voter (/oubli) erases them here.
CREATE TABLE handoffs (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    thread_id  INTEGER,              -- forum topic in VOTEBOT_SUPPORT_CHAT; NULL until opened
    opened_at  TEXT NOT NULL,
    opened_by  INTEGER,              -- staff member who opened it, NULL when the voter asked
    closed_at  TEXT,
    closed_by  INTEGER
);
CREATE UNIQUE INDEX handoffs_one_open ON handoffs(user_id) WHERE closed_at IS NULL;
CREATE INDEX handoffs_thread ON handoffs(thread_id);
CREATE INDEX handoffs_closed ON handoffs(closed_at);

CREATE TABLE transcripts (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    at            TEXT NOT NULL,
    direction     TEXT NOT NULL,     -- in (voter), out (bot), staff (relayed from support)
    text          TEXT NOT NULL,     -- secrets removed before storage
    misunderstood INTEGER NOT NULL DEFAULT 0  -- 1: the bot could not understand this message
);
CREATE INDEX transcripts_user ON transcripts(user_id, id);
CREATE INDEX transcripts_at ON transcripts(at);

CREATE TABLE support_bans (
    user_id    INTEGER PRIMARY KEY REFERENCES users(user_id) ON DELETE CASCADE,
    banned_by  INTEGER,
    banned_at  TEXT NOT NULL
);
