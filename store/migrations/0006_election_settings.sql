-- Election facts set by operators while the bot runs (`/election set`, `votebot election set`):
-- every change is kept (history); the latest row per (election, key) is in force.
CREATE TABLE election_settings (
    id        INTEGER PRIMARY KEY,
    election  TEXT NOT NULL,              -- configuration id, e.g. creteil-2026
    key       TEXT NOT NULL,              -- portal_url, vote_closes ... (bot.election.FACTS)
    value     TEXT,                       -- as typed, validated; NULL: back to "not published"
    set_by    INTEGER,                    -- Telegram user id, NULL from the CLI
    set_at    TEXT NOT NULL               -- UTC ISO
);
CREATE INDEX election_settings_key ON election_settings(election, key, id);

-- Roll look-ups: the global daily cap counts every look-up; refused ones are kept apart
-- (refused = 1) so support can see who keeps hitting the limit.
ALTER TABLE roll_lookups ADD COLUMN refused INTEGER NOT NULL DEFAULT 0;
CREATE INDEX roll_lookups_at ON roll_lookups(at);
