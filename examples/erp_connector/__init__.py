"""Reference ERP connector: the partner's side of the platform's ERP sync, with a small ERP in SQLite."""
