"""How a dashboard is served: address, token, home and database, and the rules they obey.

The dashboard listens on the loopback interface unless told otherwise. It always has a token
(the one given, or a random one printed at start): writes need it from anyone, and when the
dashboard listens on any other address, reads need it too.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from actors.web.errors import BadRequestError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
#: Fewer characters than this in a token given by hand is refused: it would be guessable.
MIN_TOKEN_LENGTH = 16
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def is_loopback(host: str) -> bool:
    """True if ``host`` names only this machine (``localhost``, ``127.0.0.0/8``, ``::1``)."""
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def new_token() -> str:
    """A random token that is safe in a URL (32 bytes of entropy)."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class WebSettings:
    """Everything ``workactors web`` was given.

    Raises:
        BadRequestError: for a token shorter than ``MIN_TOKEN_LENGTH``.

    Args:
        host: the address to listen on.
        port: the TCP port; 0 lets the system pick a free one (tests).
        token: the secret for writes (and for reads off loopback); random if None.
        home: the workactors home (None: as the Runtime decides).
        database_url: the provenance database (None: as the Runtime decides).
    """

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    token: str = field(default_factory=new_token)
    home: Path | None = None
    database_url: str | None = None

    def __post_init__(self) -> None:
        if len(self.token) < MIN_TOKEN_LENGTH:
            raise BadRequestError(
                f"the token must have at least {MIN_TOKEN_LENGTH} characters, not "
                f"{len(self.token)}: a short one can be guessed (leave it out to get a random one)"
            )

    @property
    def loopback(self) -> bool:
        """True if only this machine can reach the server."""
        return is_loopback(self.host)

    @property
    def cookie_name(self) -> str:
        """The cookie that carries the token; named after the port, because browsers share
        cookies between the ports of one host."""
        return f"workactors_token_{self.port}"

    def token_matches(self, offered: str | None) -> bool:
        """True if ``offered`` is the token (compared in constant time)."""
        return offered is not None and hmac.compare_digest(
            offered.encode("utf-8", "replace"), self.token.encode()
        )

    @property
    def csrf_token(self) -> str:
        """The value a page's forms send back with a write: derived from the token, so that
        only a page served to a signed-in browser can carry it."""
        return hmac.new(self.token.encode(), b"workactors-csrf", hashlib.sha256).hexdigest()

    def csrf_matches(self, offered: str | None) -> bool:
        """True if ``offered`` is this server's CSRF token."""
        return offered is not None and hmac.compare_digest(
            offered.encode("utf-8", "replace"), self.csrf_token.encode()
        )
