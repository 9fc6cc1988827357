"""Tenant configuration: YAML files describing who is integrated, validated into models."""
