-- 003: tokens end with a password change (issue 10).
-- users.token_version is copied into every token issued ("ver" claim) and
-- compared on every authenticated request; a password change adds one, so
-- every token issued before it is refused (401). Existing rows start at 0,
-- which is also what a token issued before this column existed reads as.
ALTER TABLE users ADD COLUMN IF NOT EXISTS token_version INT UNSIGNED NOT NULL DEFAULT 0;
