"""Exceptions of the camera package, one tree (as core, sync and server each have).

* CameraError - anything the camera package refuses or cannot do
    * DecoderUnavailable - a decoder's library is missing; the message says how to fix it
      (also a RuntimeError)
    * SourceError - a file source cannot be opened or read (also an OSError)
    * UnreadableImage - a still image file is not an image OpenCV decodes (also a ValueError)
    * BadBarcode - a keyboard-wedge burst that cannot be a payload (also a ValueError)
    * CorpusMissing - the real-photo corpus is absent or incomplete (also a FileNotFoundError)

Not an error but a signal: EndOfStream, raised by a finite source with no more frames
(the pipeline ends there), so `except CameraError` does not catch it.
Each error keeps the builtin base it had, so callers catching ValueError, OSError or
RuntimeError behave as before; a missing file is the builtin FileNotFoundError.
"""

from __future__ import annotations


class CameraError(Exception):
    """Base of every error the camera package raises."""


class DecoderUnavailable(CameraError, RuntimeError):
    """A decoder's library is not installed or cannot be loaded; the message says how to fix it."""


class SourceError(CameraError, OSError):
    """A file source cannot be opened or read; the message names the file."""


class UnreadableImage(CameraError, ValueError):
    """The file exists but is not an image OpenCV can decode."""


class BadBarcode(CameraError, ValueError):
    """A scanner burst that cannot be a valid payload; `reason` says why."""

    def __init__(self, reason: str, text: str = "") -> None:
        preview = text[:40].encode("unicode_escape").decode("ascii")
        super().__init__(f"bad barcode: {reason}" + (f" (starts {preview!r})" if text else ""))
        self.reason = reason
        self.text = text


class CorpusMissing(CameraError, FileNotFoundError):
    """The corpus folder or one of its expected-text files is missing."""


class EndOfStream(Exception):
    """A finite source (a file played without looping) has no more frames."""
