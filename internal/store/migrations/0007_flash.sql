-- A session's flash: the one-time message of a form's answer for the page
-- the browser is sent on to (what was done, or why not, with the values
-- typed), taken by the next page and then gone. The portal seals it under
-- a key derived from the session id, which only the browser holds: like
-- the session itself, the database alone reads nothing of it.
ALTER TABLE sessions ADD COLUMN flash bytea CHECK (octet_length(flash) <= 32768);
