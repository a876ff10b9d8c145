-- Throttling charges an attempt before its code is checked (docs/security.md):
-- the current run of charges, when the latest was taken, and the attempts
-- refused while locked (counted, not audited one by one).
ALTER TABLE mfa_throttle ADD COLUMN recent INTEGER NOT NULL DEFAULT 0;
ALTER TABLE mfa_throttle ADD COLUMN last_charge_at INTEGER;
ALTER TABLE mfa_throttle ADD COLUMN refused INTEGER NOT NULL DEFAULT 0;
ALTER TABLE mfa_throttle ADD COLUMN refused_before INTEGER NOT NULL DEFAULT 0;

-- An e-mail/SMS factor is bound to the address that was verified: a keyed
-- hash of it, and the address sealed (to tell it when it is replaced).
-- Rows from before have neither and match no address: register again.
ALTER TABLE mfa_channels ADD COLUMN address_hash BLOB;
ALTER TABLE mfa_channels ADD COLUMN sealed_address BLOB;
