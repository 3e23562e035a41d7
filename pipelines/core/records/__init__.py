"""Run records: the ledger, locks, fingerprints, results and reports, rollback."""
