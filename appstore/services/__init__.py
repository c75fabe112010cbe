"""Every write in the App Store room: keyword-only functions, in a transaction, audited."""
