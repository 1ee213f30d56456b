-- Bans from the support relay, keyed on the Telegram id and deliberately NOT referencing users:
-- a voter's /oubli erases everything about them but this row, which holds nothing but the id
-- and when the ban ends (NULL: for good). support_bans (0005) is replaced by this table.
CREATE TABLE bans (
    user_id INTEGER PRIMARY KEY,
    until   TEXT
);
INSERT INTO bans (user_id, until) SELECT user_id, NULL FROM support_bans;
