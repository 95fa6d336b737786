"""The /activity/ pages: the audit trail read in the browser (kept apart from config.audit, which
the API layer reads, so the page toolkit and the audit trail import no circle)."""
