"""Media in and out: video (PyAV), GIF (Pillow), image sequences (OpenCV).

Readers are lazy iterables of :class:`kinema.types.Frame` with an ``info`` attribute;
writers take frames one at a time and appear on disk only when closed successfully.
"""

from kinema.io.gif import GifOptions, GifReader, GifWriter
from kinema.io.images import ImageOptions, ImageSequenceReader, ImageSequenceWriter
from kinema.io.output import OutputOptions, Timeline, open_writer, output_kind
from kinema.io.probe import input_kind, open_reader, probe
from kinema.io.video import VideoReader
from kinema.io.video_out import OddSize, VideoCodec, VideoOptions, VideoWriter

__all__ = [
    "GifOptions",
    "GifReader",
    "GifWriter",
    "ImageOptions",
    "ImageSequenceReader",
    "ImageSequenceWriter",
    "OddSize",
    "OutputOptions",
    "Timeline",
    "VideoCodec",
    "VideoOptions",
    "VideoReader",
    "VideoWriter",
    "input_kind",
    "open_writer",
    "open_reader",
    "output_kind",
    "probe",
]
