-- The durable inbox: every update received is written here before Telegram is told it arrived
-- (next getUpdates offset, or HTTP 200 to a webhook call), then handled from here.
-- One voter's updates are handled in update_id order; a claim is a lease (owner + end time),
-- so several processes sharing a database can serve the same queue.
CREATE TABLE inbox (
    update_id    INTEGER PRIMARY KEY,         -- Telegram's update id
    voter        INTEGER NOT NULL,            -- ordering key: sender, else chat, else 0
    payload      TEXT,                        -- the update as received; NULL once finished
    received_at  TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'queued',  -- queued, done, dropped, aside
    attempts     INTEGER NOT NULL DEFAULT 0,  -- failed tries (handling raised)
    claimed_by   TEXT,                        -- the worker holding it, while leased
    lease_until  TEXT,                        -- end of the lease, or "not before" for a retry
    finished_at  TEXT,
    error        TEXT                         -- why it was set aside (no update content)
);
CREATE INDEX inbox_queued ON inbox(voter, update_id) WHERE status = 'queued';
CREATE INDEX inbox_status ON inbox(status, finished_at);
