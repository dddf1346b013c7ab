"""Camera and scanner input: frame sources, QR decoders, debounce, keyboard-wedge parsing.

No Qt here: the GUI connects the pipeline's callbacks (called on worker threads) to
its own signals. See DESIGN.md §1-2 and the module docstrings.
"""

from scanner_app.camera.debounce import Debouncer
from scanner_app.camera.decoders import Decoder, DecodeResult, available_decoders
from scanner_app.camera.errors import (
    BadBarcode,
    CameraError,
    DecoderUnavailable,
    EndOfStream,
    SourceError,
    UnreadableImage,
)
from scanner_app.camera.fastpath import ScalingDecoder, make_decoder
from scanner_app.camera.pipeline import PipelineStats, ScanPipeline
from scanner_app.camera.sources import (
    FileSource,
    FrameSource,
    SourceState,
    SourceStatus,
    WebcamSource,
)
from scanner_app.camera.still import decode_image_file
from scanner_app.camera.wedge import WedgeEvent, WedgeParser

__all__ = [
    "BadBarcode",
    "CameraError",
    "Debouncer",
    "DecodeResult",
    "Decoder",
    "DecoderUnavailable",
    "EndOfStream",
    "FileSource",
    "FrameSource",
    "ScalingDecoder",
    "PipelineStats",
    "ScanPipeline",
    "SourceError",
    "SourceState",
    "SourceStatus",
    "UnreadableImage",
    "WebcamSource",
    "WedgeEvent",
    "WedgeParser",
    "available_decoders",
    "decode_image_file",
    "make_decoder",
]
