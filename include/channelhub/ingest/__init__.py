"""Validating and loading one tenant TSV file into the product database."""
