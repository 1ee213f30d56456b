-- Labelled examples from voters' "Vous parlez de… ?" choices (text redacted of secrets),
-- exported by `votebot intent --export-feedback` to grow the intent corpus.
CREATE TABLE intent_feedback (
    id          INTEGER PRIMARY KEY,
    intent      TEXT NOT NULL,
    text        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
