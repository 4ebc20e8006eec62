"""whosaid: who said what, with which stance, citing which figures.

Data flows one way: annotations -> documents -> encoded windows -> model ->
predicted spans -> attribution records -> metrics and reports.
"""

from whosaid.documents import Attribution, Document, Span
from whosaid.errors import AnnotationError, ConfigError, WhosaidError
from whosaid.schema import Schema

__all__ = [
    "Attribution",
    "AnnotationError",
    "ConfigError",
    "Document",
    "Schema",
    "Span",
    "WhosaidError",
]
__version__ = "0.1.0"
