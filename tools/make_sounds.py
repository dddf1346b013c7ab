"""Generate the scanner's outcome sounds as small 16-bit mono WAV files.

Run once (``python tools/make_sounds.py``); the WAVs are committed as package data
under ``scanner_app/resources/sounds`` so the app needs no synthesis at runtime.
Each outcome has a distinct contour so staff can tell them apart without looking:
admit rises, exit falls, warn repeats a mid tone, reject is a low harsh buzz.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

RATE = 44_100
OUT = Path(__file__).resolve().parent.parent / "scanner_app" / "resources" / "sounds"


def tone(freq: float, ms: float, *, square: bool = False, volume: float = 0.5) -> np.ndarray:
    """One tone with a short attack/release so it does not click."""
    n = int(RATE * ms / 1000)
    t = np.arange(n) / RATE
    wave_ = np.sin(2 * np.pi * freq * t)
    if square:
        # A few odd harmonics: harsh enough to read as "no" without being shrill.
        for k in (3, 5, 7):
            wave_ += np.sin(2 * np.pi * freq * k * t) / k
        wave_ /= np.abs(wave_).max()
    ramp = min(n // 2, int(RATE * 0.008))
    env = np.ones(n)
    env[:ramp] = np.linspace(0, 1, ramp)
    env[n - ramp :] = np.linspace(1, 0, ramp)
    return wave_ * env * volume


def silence(ms: float) -> np.ndarray:
    return np.zeros(int(RATE * ms / 1000))


SOUNDS: dict[str, list[np.ndarray]] = {
    "admit": [tone(880, 90), tone(1320, 140)],
    "exit": [tone(1320, 90), tone(880, 140)],
    "warn": [tone(660, 110), silence(60), tone(660, 110), silence(60), tone(660, 110)],
    "reject": [tone(196, 420, square=True, volume=0.45)],
}


def write(name: str, parts: list[np.ndarray]) -> Path:
    samples = np.concatenate(parts)
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    path = OUT / f"{name}.wav"
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(pcm.tobytes())
    return path


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, parts in SOUNDS.items():
        print(write(name, parts))


if __name__ == "__main__":
    main()
