"""Newest wins, consolidation into one reconciliation, commitments, progress roll-ups."""
