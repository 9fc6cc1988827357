"""The per-run status email a tenant's notification list receives."""
