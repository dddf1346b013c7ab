"""Calls into the fallback decoders (zbar, OpenCV) that never throw on a real code.

Measured on real photos (../shared/realworld/qr-photos) and real structured-append codes:
- pyzbar 0.1.9 builds `ZBarOrientation(value)` for every symbol, and zbar reports an
  unknown orientation as 2**32 - 1 for structured-append codes, so `pyzbar.decode` raises
  ValueError for the whole frame. `zbar_qr_symbols` reads the same zbar symbols through
  pyzbar's own ctypes bindings without asking for the orientation.
- OpenCV's string API decodes bytes as UTF-8 and raises UnicodeDecodeError on a
  Shift-JIS code; Hanzi mode (13) raises cv2.error for every code in the frame.
  `opencv_qr_bytes` uses the bytes API and, when one code throws, decodes the
  detected codes one by one so the others still come back.
"""

from __future__ import annotations

import logging
import re
from ctypes import c_void_p, cast, string_at
from typing import Any

import cv2
import numpy as np

log = logging.getLogger(__name__)

Corners = list[tuple[float, float]]
_ZBAR_CFG_BINARY = 4


_LATIN1_ONLY = re.compile("^[\x00-\xff]*[\x80-\xff][\x00-\xff]*$")
_C1 = re.compile("[\x80-\x9f]")


def text_of(data: bytes) -> str | None:
    """The text of a byte-mode payload: UTF-8, else Shift-JIS (Japanese codes), else None.

    None rather than a Latin-1 guess: a wrong text is worse than no read, and a ticket
    token is ASCII anyway.
    """
    for encoding in ("utf-8", "shift_jis"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def opencv_text(data: bytes) -> str | None:
    """`text_of` for OpenCV, which hands some codes over as their bytes read as Latin-1.

    Seen on the corpus: Shift-JIS codes came back as Latin-1 mojibake (qrcode-2/16 with
    C1 control characters, qrcode-2/17 without). A text of Latin-1 characters that is
    also valid Shift-JIS is ambiguous: C1 characters say Shift-JIS was meant, otherwise
    nothing is returned rather than a guess.
    """
    text = text_of(data)
    if text is None or not _LATIN1_ONLY.match(text):
        return text
    try:
        sjis = text.encode("latin-1").decode("shift_jis")
    except UnicodeDecodeError:
        return None if _C1.search(text) else text
    return sjis if _C1.search(text) else None


def zbar_qr_symbols(pyzbar: Any, gray: np.ndarray) -> list[tuple[bytes, Corners]]:
    """(data, outline) of each complete QR symbol zbar finds in a grey uint8 frame.

    A lone part of a structured-append sequence comes back as a PARTIAL symbol (not
    the code's text) and is left out; all parts in view come back as one QR symbol
    holding the whole text.
    """
    from pyzbar import wrapper as w  # loaded with `pyzbar` (the caller's pyzbar.pyzbar)

    g = np.ascontiguousarray(gray, dtype=np.uint8)
    height, width = g.shape[:2]
    pixels = g.tobytes()
    qr = int(w.ZBarSymbol.QRCODE)
    out: list[tuple[bytes, Corners]] = []
    with pyzbar._image_scanner() as scanner:
        w.zbar_image_scanner_set_config(scanner, w.ZBarSymbol.NONE, w.ZBarConfig.CFG_ENABLE, 0)
        w.zbar_image_scanner_set_config(scanner, qr, w.ZBarConfig.CFG_ENABLE, 1)
        # Raw bytes, not zbar's own charset guess (it read half-width katakana Shift-JIS
        # as CJK ideographs: qrcode-2/17). pyzbar's enum calls 4 CFG_NUM; zbar >= 0.23
        # (Debian 12) has ZBAR_CFG_BINARY there, older ones refuse it harmlessly.
        w.zbar_image_scanner_set_config(scanner, qr, _ZBAR_CFG_BINARY, 1)
        with pyzbar._image() as img:
            w.zbar_image_set_format(img, pyzbar._FOURCC["L800"])
            w.zbar_image_set_size(img, width, height)
            w.zbar_image_set_data(img, cast(pixels, c_void_p), len(pixels), None)
            if w.zbar_scan_image(scanner, img) < 0:
                return []
            for sym in pyzbar._symbols_for_image(img):
                if int(sym.contents.type) != qr:
                    continue
                data = string_at(w.zbar_symbol_get_data(sym), w.zbar_symbol_get_data_length(sym))
                n = w.zbar_symbol_get_loc_size(sym)
                pts = [
                    (float(w.zbar_symbol_get_loc_x(sym, i)), float(w.zbar_symbol_get_loc_y(sym, i)))
                    for i in range(n)
                ]
                if pts:
                    out.append((data, pts))
    return out


def opencv_qr_bytes(detector: Any, gray: np.ndarray) -> tuple[list[tuple[bytes, Any]], int]:
    """(data, corners) of each code OpenCV reads, and how many it saw but could not read."""
    try:
        ok, datas, points, _ = detector.detectAndDecodeBytesMulti(gray)
    except cv2.error as exc:
        # One code in an unsupported mode spoils the whole multi call: take them singly.
        log.debug("OpenCV multi-decode failed (%s); decoding codes one by one", exc)
        return _one_by_one(detector, gray)
    if not ok or points is None:
        return [], 0
    pairs = list(zip(datas, points, strict=True))
    read = [(bytes(d), p) for d, p in pairs if d]
    return read, len(pairs) - len(read)


def _one_by_one(detector: Any, gray: np.ndarray) -> tuple[list[tuple[bytes, Any]], int]:
    try:
        ok, points = detector.detectMulti(gray)
    except cv2.error:
        return [], 0
    if not ok or points is None:
        return [], 0
    read, unread = [], 0
    for p in points:
        try:
            data, _ = detector.decodeBytes(gray, p.reshape(1, 4, 2))
        except cv2.error:
            data = b""
        if data:
            read.append((bytes(data), p))
        else:
            unread += 1
    return read, unread
