"""Tenant SFTP folders: finding a run date's files, waiting for them, archiving them."""
