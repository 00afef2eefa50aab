"""The names ports may take, and where a dotted input name leads among a spec's namespaces.

Names are checked when a port is declared, not when a process runs: an input name becomes an
attribute (``self.inputs.x``) and, with its namespaces joined by ``__``, a link label, so a name
that is not an identifier, or that holds ``__`` itself, would break one or the other later.
"""

from __future__ import annotations

from actors.errors import SpecError
from actors.nested import LINK_SEPARATOR
from actors.ports import InputNamespace
from provenance.values import LABEL_MAX_LENGTH, short_repr

#: Launch options that are not inputs: they label the process node, no link is made.
METADATA_KEY = "metadata"
METADATA_FIELDS = ("label", "description")


def owned(owner: str, what: str) -> str:
    """``what`` prefixed with the class being defined, so that an error of ``define`` names it."""
    return f"{owner}: {what}" if owner else what


def check_input_name(part: str, path: str, owner: str) -> None:
    """Refuse ``part`` (of the dotted input name ``path``) as an input or namespace name.

    Raises:
        SpecError: for a name that is not an identifier, holds ``__``, or is ``metadata``.
    """
    if not part.isidentifier():
        raise SpecError(
            owned(owner, f"input name {path!r} is not a valid Python identifier")
            + (" (dots separate namespaces)" if "." in path else "")
        )
    if LINK_SEPARATOR in part:
        raise SpecError(owned(owner, double_underscore("input", path)))
    if part == METADATA_KEY and path == part:
        raise SpecError(
            owned(owner, "'metadata' is not an input: it holds a launch's label and description")
        )


def long_link_label(kind: str, name: str) -> str | None:
    """Why a ``kind`` (input or output) named ``name`` (dotted) cannot be linked: its link
    label, namespaces joined by ``__``, is longer than the database stores; None if it fits."""
    label = name.replace(".", LINK_SEPARATOR)
    if len(label) <= LABEL_MAX_LENGTH:
        return None
    return (
        f"{kind} name {short_repr(name)} is linked under a label of {len(label)} characters; "
        f"at most {LABEL_MAX_LENGTH} are stored"
    )


def namespace_at(inputs: InputNamespace, path: str, owner: str, *, create: bool) -> InputNamespace:
    """The input namespace at dotted ``path`` under ``inputs`` ("" is ``inputs``), made if
    ``create``.

    Raises:
        SpecError: for a bad name, a missing namespace (unless ``create``), or a path that
            goes through an input port.
    """
    namespace = inputs
    if not path:
        return namespace
    for part in path.split("."):
        check_input_name(part, path, owner)
        found = namespace.get(part)
        if found is None:
            if not create:
                raise SpecError(owned(owner, f"no input namespace {path!r}"))
            found = namespace[part] = InputNamespace(namespace.child_path(part))
        if not isinstance(found, InputNamespace):
            raise SpecError(
                owned(
                    owner,
                    f"input namespace {path!r} clashes with input port "
                    f"{namespace.child_path(part)!r}",
                )
            )
        namespace = found
    return namespace


def double_underscore(kind: str, name: str) -> str:
    """Why a ``kind`` (input or output) port may not be named ``name``, which holds ``__``."""
    return (
        f"{kind} name {name!r} holds {LINK_SEPARATOR!r}, which joins namespaces in link labels "
        f"('a.b' is stored as 'a{LINK_SEPARATOR}b'): the two would collide. Use a namespace "
        "('a.b') or a single underscore"
    )
