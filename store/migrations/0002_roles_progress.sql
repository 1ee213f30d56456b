-- Roles granted by an admin (broadcaster, support) and the voter's progress checklist.
CREATE TABLE roles (
    user_id     INTEGER NOT NULL,
    role        TEXT NOT NULL,
    granted_by  INTEGER,
    granted_at  TEXT NOT NULL,
    PRIMARY KEY (user_id, role)
);

CREATE TABLE progress (
    user_id  INTEGER NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    item     TEXT NOT NULL,             -- identifier, account, vote_code, voted
    done_at  TEXT NOT NULL,
    PRIMARY KEY (user_id, item)
);
CREATE INDEX progress_item ON progress(item);
