"""The partner REST API, mounted at /api/v1/ (namespace "api")."""
