"""A keyring that lives in memory, for tests of the password lookup, `init --keyring` and `doctor`: installed
with keyring's own ``set_keyring`` for the length of a ``with`` block (the ``memory_keyring`` fixture in
conftest.py does that for one test)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import keyring
import keyring.backend


class MemoryKeyring(keyring.backend.KeyringBackend):
    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


@contextmanager
def keyring_replaced_by(backend: keyring.backend.KeyringBackend) -> Iterator[None]:
    """``backend`` is the system keyring inside the block; the one before it is restored afterwards."""
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        yield
    finally:
        keyring.set_keyring(previous)
