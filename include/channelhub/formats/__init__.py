"""File formats: declarative descriptions of the tenant TSV tables, loaded from ``schemas/``."""

from channelhub.formats.model import Column, FileFormat, LoadMode, Lookup, Rule
from channelhub.formats.registry import load_format, load_formats

__all__ = [
    "Column",
    "FileFormat",
    "LoadMode",
    "Lookup",
    "Rule",
    "load_format",
    "load_formats",
]
