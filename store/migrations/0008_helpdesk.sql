-- Helpdesk: a handoff is claimed by one agent; waiting times, alerts and satisfaction.
ALTER TABLE handoffs ADD COLUMN agent_id INTEGER;          -- the staff member who has it
ALTER TABLE handoffs ADD COLUMN agent_name TEXT;          -- their first name, for the topic
ALTER TABLE handoffs ADD COLUMN claimed_at TEXT;
ALTER TABLE handoffs ADD COLUMN first_response_at TEXT;   -- first staff message relayed
ALTER TABLE handoffs ADD COLUMN waiting_since TEXT;       -- oldest voter message unanswered
ALTER TABLE handoffs ADD COLUMN alerted_at TEXT;          -- the group was told it waits
ALTER TABLE handoffs ADD COLUMN rating INTEGER;           -- 1 thumbs up, 0 thumbs down
ALTER TABLE handoffs ADD COLUMN rating_comment TEXT;      -- secrets removed
ALTER TABLE handoffs ADD COLUMN rated_at TEXT;
CREATE INDEX handoffs_waiting ON handoffs(waiting_since);
