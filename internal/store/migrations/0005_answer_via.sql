-- How the customer answered — through the link's page or the identity
-- system's login hook — recorded with the answer itself, in the one
-- statement that takes it, so that no page reads a workflow's history to
-- learn it. NULL for answers given before this column existed.
ALTER TABLE subaccounts ADD COLUMN answer_via text CHECK (answer_via IN ('link', 'login'));
ALTER TABLE subaccounts ADD CHECK (answer_via IS NULL OR answer IS NOT NULL);
