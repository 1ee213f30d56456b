-- Voters, their conversation state, processed updates and transition events.
CREATE TABLE users (
    user_id      INTEGER PRIMARY KEY,
    first_name   TEXT NOT NULL DEFAULT '',
    language     TEXT NOT NULL DEFAULT 'fr',
    category     TEXT,
    departement  TEXT,
    reminders    INTEGER,            -- NULL: never asked; 0: refused; 1: opted in
    active       INTEGER NOT NULL DEFAULT 1,
    first_seen   TEXT NOT NULL,
    last_seen    TEXT NOT NULL
);

CREATE TABLE conversations (
    user_id     INTEGER PRIMARY KEY REFERENCES users(user_id) ON DELETE CASCADE,
    flow        TEXT NOT NULL,
    state       TEXT NOT NULL,
    data        TEXT NOT NULL DEFAULT '{}',
    updated_at  TEXT NOT NULL
);

CREATE TABLE processed_updates (
    update_id    INTEGER PRIMARY KEY,
    user_id      INTEGER REFERENCES users(user_id) ON DELETE CASCADE,
    replies      TEXT NOT NULL DEFAULT '[]',  -- reply values, re-sent if the bot died before
    processed_at TEXT NOT NULL,
    replied_at   TEXT
);
CREATE INDEX processed_updates_at ON processed_updates(processed_at);

CREATE TABLE transition_events (
    id       INTEGER PRIMARY KEY,
    user_id  INTEGER NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    at       TEXT NOT NULL,
    flow     TEXT NOT NULL,
    source   TEXT NOT NULL,
    dest     TEXT NOT NULL,
    trigger  TEXT NOT NULL
);
CREATE INDEX transition_events_user ON transition_events(user_id, at);
CREATE INDEX transition_events_flow ON transition_events(flow, dest);
