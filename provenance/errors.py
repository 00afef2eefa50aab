"""The exception hierarchy of workactors' provenance layer.

``WorkactorsError`` is the root of every error the three packages raise; it lives here because
``provenance`` is the package the others build on.
"""

from __future__ import annotations


class WorkactorsError(Exception):
    """Root of every error raised by workactors."""


class ProvenanceError(WorkactorsError):
    """Base of the errors raised by the provenance store."""


class NotExistentError(ProvenanceError, LookupError):
    """A node, group or record that was asked for is not in the database."""


class MultipleObjectsError(ProvenanceError, LookupError):
    """A lookup that must find one object found several."""


class StorageError(ProvenanceError):
    """The database cannot be used: corrupt, foreign, unreachable or of an unknown version."""


class ModificationNotAllowedError(ProvenanceError):
    """A stored node was asked to change what provenance has frozen."""


class InvalidValueError(ProvenanceError, ValueError):
    """A value that the provenance database cannot store the same way on SQLite and PostgreSQL.

    Raised when a node is created or changed, before anything reaches the database: an integer
    outside 64 bits, a NUL character or a lone surrogate in text, a label over 255 characters, a
    float that is not finite.
    """


class NoBackendError(ProvenanceError, RuntimeError):
    """A node was stored or loaded while no runtime provides a provenance backend."""


class QueryError(ProvenanceError, ValueError):
    """A ``QueryBuilder`` was given a key, operator, tag or value it cannot turn into SQL.

    The message names what was wrong (the tag and the key or operator) and what is accepted.
    """


class AmbiguousIdentifierError(MultipleObjectsError):
    """A uuid prefix matches several nodes; the message lists the candidates."""


class ArchiveError(ProvenanceError):
    """An archive cannot be read or imported: damaged, of an unknown version, or in conflict
    with the database. Nothing was imported when it is raised."""
