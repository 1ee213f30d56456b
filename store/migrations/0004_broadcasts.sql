-- Broadcasts (union reminders): one row per message, one row per recipient with its state.
CREATE TABLE broadcasts (
    id            INTEGER PRIMARY KEY,
    text          TEXT NOT NULL,             -- Telegram HTML with {prenom}-style variables
    audience      TEXT NOT NULL,             -- all | category=X | departement=NN | progress=STEP
    send_at       TEXT NOT NULL,             -- when it is due (UTC ISO)
    state         TEXT NOT NULL,             -- planned, scheduled, sending, done, cancelled
    plan_key      TEXT UNIQUE,               -- calendar reminder key, NULL for manual ones
    created_by    INTEGER,                   -- Telegram user id, NULL from the CLI
    created_at    TEXT NOT NULL,
    started_at    TEXT,
    finished_at   TEXT,
    report_chat   INTEGER,                   -- where the live progress message is shown
    report_message INTEGER                   -- its message id, once sent
);
CREATE INDEX broadcasts_due ON broadcasts(state, send_at);

CREATE TABLE broadcast_recipients (
    broadcast_id  INTEGER NOT NULL REFERENCES broadcasts(id) ON DELETE CASCADE,
    user_id       INTEGER NOT NULL,
    state         TEXT NOT NULL DEFAULT 'pending',  -- pending, sending, sent, blocked, failed
    attempts      INTEGER NOT NULL DEFAULT 0,
    not_before    REAL NOT NULL DEFAULT 0,          -- epoch seconds of the next retry
    error         TEXT,
    PRIMARY KEY (broadcast_id, user_id)
);
CREATE INDEX broadcast_recipients_state ON broadcast_recipients(broadcast_id, state);

-- The composer (/diffusion) of each broadcaster: its step and what was chosen so far.
CREATE TABLE broadcast_drafts (
    user_id     INTEGER PRIMARY KEY,
    step        TEXT NOT NULL,
    data        TEXT NOT NULL DEFAULT '{}',
    updated_at  TEXT NOT NULL
);
