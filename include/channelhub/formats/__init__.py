"""File formats: declarative descriptions of the tenant TSV tables, loaded from ``schemas/``."""

from channelhub.formats.model import Column, FileFormat, LoadMode, Lookup, Rule
from channelhub.formats.registry import FormatError, load_format, load_formats

__all__ = [
    "Column",
    "FileFormat",
    "FormatError",
    "LoadMode",
    "Lookup",
    "Rule",
    "load_format",
    "load_formats",
]
