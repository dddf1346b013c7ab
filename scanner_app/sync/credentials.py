"""Where a node keeps its upstream API key: `TICKITZ_API_KEY`, the OS keyring, or a 0600 file.

One key per node (a hub and two gates on one laptop each have their own), so the keyring
entry is named after the node's device id. Keys are never logged; messages name the store.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

ENV_KEY = "TICKITZ_API_KEY"
NO_KEYRING_ENV = "TICKITZ_NO_KEYRING"  # set to 1 to force the file (CI, shared machines)
KEYRING_SERVICE = "tickitz-scanner"
KEY_FILENAME = "upstream.key"


class KeyUnusable(ValueError):
    """A stored key cannot be a key (not text, several words...). The message names the
    store and never holds the key's bytes."""


def _key_problem(key: str) -> str | None:
    """Why ``key`` (already stripped) cannot be sent as a Bearer token, in words without it."""
    if any(c.isspace() for c in key):
        lines = len(key.splitlines())
        return (f"holds {lines} lines" if lines > 1 else "holds spaces") + (
            ", but an API key is one word"
        )
    if not key.isascii() or not key.isprintable():
        return "holds characters an API key never has (control or non-ASCII characters)"
    return None


def keyring_usable() -> bool:
    """True when a real OS keyring backend is configured (not the 'fail' or 'null' stubs)."""
    if os.environ.get(NO_KEYRING_ENV, "").strip() not in ("", "0"):
        return False
    try:
        import keyring  # noqa: PLC0415 (importing probes D-Bus etc.; only when asked)

        backend = keyring.get_keyring()
        name = type(backend).__module__
        return not name.endswith((".fail", ".null")) and float(backend.priority) > 0
    except Exception:  # a broken backend is no backend
        return False


class KeyStore:
    """The upstream key of one node (identified by `account`, e.g. its device id)."""

    def __init__(self, data_dir: Path | str, account: str) -> None:
        self.path = Path(data_dir) / KEY_FILENAME
        self.account = f"upstream-api-key:{account}"

    def get(self) -> tuple[str | None, str]:
        """(key, where it came from: 'env' | 'keyring' | 'file' | 'none').

        Raises KeyUnusable, naming the store, when what is stored cannot be a key."""
        env = os.environ.get(ENV_KEY, "").strip()
        if env:
            self._check(env, f"the environment variable {ENV_KEY}")
            return env, "env"
        if keyring_usable():
            try:
                import keyring  # noqa: PLC0415

                stored = (keyring.get_password(KEYRING_SERVICE, self.account) or "").strip()
                if stored:
                    self._check(stored, f"the OS keyring entry {KEYRING_SERVICE}/{self.account}")
                    return stored, "keyring"
            except Exception as exc:
                if isinstance(exc, KeyUnusable):
                    raise
                log.warning(
                    "Cannot read the OS keyring (%s); trying %s", type(exc).__name__, self.path
                )
        try:
            text = self.path.read_bytes().decode("utf-8").strip()
        except FileNotFoundError:
            return None, "none"
        except UnicodeDecodeError:
            raise KeyUnusable(
                f"{self.path} is not a text file (not UTF-8) and cannot hold an API key;"
                " run `tickitz-scanner connect` again to store the key"
            ) from None  # the decode error would quote the file's bytes
        except OSError as exc:
            raise KeyUnusable(
                f"cannot read {self.path} ({exc.strerror or type(exc).__name__})"
            ) from None
        if not text:
            return None, "none"
        self._check(text, str(self.path))
        return text, "file"

    @staticmethod
    def _check(key: str, where: str) -> None:
        problem = _key_problem(key)
        if problem:
            raise KeyUnusable(
                f"{where} {problem}; store the key alone"
                " (run `tickitz-scanner connect` again, or fix the variable)"
            )

    def set(self, key: str) -> str:
        """Store the key; returns 'keyring' or 'file'. The other store is cleared."""
        key = key.strip()
        if not key or _key_problem(key):
            raise ValueError("an API key is one word of printable characters, with no spaces")
        if keyring_usable():
            try:
                import keyring  # noqa: PLC0415

                keyring.set_password(KEYRING_SERVICE, self.account, key)
                self._remove_file()
                return "keyring"
            except Exception as exc:
                log.warning(
                    "Cannot write the OS keyring (%s); using a 0600 file", type(exc).__name__
                )
        self._write_file(key)
        return "file"

    def delete(self) -> None:
        if keyring_usable():
            with contextlib.suppress(Exception):
                import keyring  # noqa: PLC0415

                keyring.delete_password(KEYRING_SERVICE, self.account)
        self._remove_file()

    def _write_file(self, key: str) -> None:
        """Atomically, and readable by this user only from the first byte on."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temp = self.path.with_suffix(".tmp")
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.fchmod(fd, 0o600)  # the umask may have narrowed it; never widened
            os.write(fd, (key + "\n").encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, self.path)

    def _remove_file(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
