"""An animated GIF of a stepper's pictures, for slides: one canvas, one palette, each caption drawn below.

Pillow is imported only when a GIF is made: pictures and steppers do not need it.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

import graphviz

from .. import files
from .dot import _dot

MAX_FPS = 50  # browsers play a GIF frame shorter than 20 ms as 100 ms
MIN_FPS = 100 / 65535  # a GIF frame's duration is a 16-bit count of centiseconds: at most 655.35 s
MAX_LOOP = 65535  # the loop count is 16 bits too
MAX_FRAMES = 200  # more frames than this in one GIF is a slide show nobody steps through
MAX_PIXELS = 40_000_000  # all GIF frames together (held in memory at once, 3 bytes each before quantizing)


def _check_gif_args(fps: Any, loop: Any, dpi: Any, max_frames: Any, max_pixels: Any) -> None:
    """A ValueError naming the first of ``to_gif``'s arguments that a GIF cannot have."""
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not MIN_FPS <= fps <= MAX_FPS:
        raise ValueError(f"to_gif: fps must be a number of frames per second from {MIN_FPS:.5f} (a GIF shows "
                         f"a frame at most 655.35 s) to {MAX_FPS}, got {fps!r}")
    if loop is not None and not _count(loop, 0, MAX_LOOP):
        raise ValueError(f"to_gif: loop must be an int ≥ 0 and ≤ {MAX_LOOP} (GIF's 16 bits; 0 = forever) or "
                         f"None (play once), got {loop!r}")
    if not _count(dpi, 24, 300):
        raise ValueError(f"to_gif: dpi must be an int from 24 to 300, got {dpi!r}")
    for name, limit in (("max_frames", max_frames), ("max_pixels", max_pixels)):
        if not _count(limit, 1):
            raise ValueError(f"to_gif: {name} must be an int ≥ 1, got {limit!r}")


def _check_gif_size(sizes: list[tuple[float, float]], dpi: int, max_frames: int, max_pixels: int) -> None:
    """A ValueError, before any PNG is made, if the frames (``sizes``: each SVG's, in points) are too many
    or would make too many pixels at ``dpi``."""
    if len(sizes) > max_frames:
        raise ValueError(f"to_gif: {len(sizes)} frames are more than max_frames={max_frames}; make fewer frames "
                         "(max_steps=) or pass a larger max_frames=")
    pixels = len(sizes) * math.prod(max(s[k] for s in sizes) * dpi / 72 for k in (0, 1))  # dot's PNG: 72 dpi
    if pixels > max_pixels:
        raise ValueError(f"to_gif: {len(sizes)} frames of this picture at {dpi} dpi make about {pixels / 1e6:.0f} "
                         f"million pixels, more than max_pixels={max_pixels:,}; lower dpi=, draw fewer steps "
                         "(max_steps=) or pass a larger max_pixels=")


def _png(g: graphviz.Digraph, dpi: int, seconds: float) -> Any:
    """One picture by ``dot -Tpng`` at ``dpi``, as an RGBA image."""
    from PIL import Image

    g = g.copy()
    g.graph_attr["dpi"] = str(dpi)
    data = _dot(g, "png", seconds, "draw(...).source has the DOT text")
    return Image.open(io.BytesIO(data)).convert("RGBA")


def _write_gif(target: Path, pictures: list[Any], captions: list[str], dpi: int, fps: float,
               loop: int | None) -> None:
    """The pictures with their captions, on one canvas and one palette, written atomically to ``target``."""
    from PIL import Image

    frames = _canvas(pictures, captions, dpi)
    palette = _palette(frames)
    nearest = getattr(Image, "Dither", Image).NONE  # no dithering: flat fills stay flat
    gif = [f.quantize(palette=palette, dither=nearest) for f in frames]
    extra = {} if loop is None else {"loop": loop}
    files.atomic_write(target, lambda f: gif[0].save(f, format="GIF", save_all=True, append_images=gif[1:],
                                                     duration=round(1000 / fps), disposal=1, **extra), "to_gif")


def _count(x: Any, low: int, high: float = math.inf) -> bool:
    """Whether ``x`` is an int (not a bool) from ``low`` to ``high``."""
    return isinstance(x, int) and not isinstance(x, bool) and low <= x <= high


def _palette(frames: list[Any]) -> Any:
    """One 255-colour palette for all frames, so that colours never flicker: median cut over all of them at
    a quarter of the size."""
    from PIL import Image

    w, h = frames[0].width // 2, frames[0].height // 2
    sample = Image.new("RGB", (w, h * len(frames)), "white")
    for i, f in enumerate(frames):
        sample.paste(f.resize((w, h)), (0, i * h))
    palette = sample.quantize(255)
    # Median cut averages white with the antialiased grey around text, and Pillow maps colours closer than
    # 4 levels to either one: snap near-white entries to white, so the background is white on a slide.
    rgb = palette.getpalette()
    for k in range(0, len(rgb), 3):
        if min(rgb[k:k + 3]) >= 248:
            rgb[k:k + 3] = [255, 255, 255]
    palette.putpalette(rgb)
    return palette


def _canvas(pictures: list[Any], captions: list[str], dpi: int) -> list[Any]:
    """Each picture on one white canvas of the largest size, its caption wrapped in a band below it."""
    from PIL import Image, ImageDraw

    font = _font(round(13 * dpi / 72))
    margin = round(10 * dpi / 72)
    width = max(max(p.width for p in pictures), round(5 * dpi))  # a tiny picture still gets readable lines
    lines = [_wrap(c, font, width - 2 * margin) for c in captions]
    line_height = round(font.size * 1.3) if hasattr(font, "size") else 14
    top = max(p.height for p in pictures) + margin  # the band of the longest caption, the same in every frame
    height = top + line_height * max(len(ls) for ls in lines) + margin
    frames = []
    for picture, text in zip(pictures, lines):
        frame = Image.new("RGB", (width, height), "white")
        frame.paste(picture, (0, 0), picture)  # top left, as the HTML pads; alpha as the mask: white behind
        draw = ImageDraw.Draw(frame)
        for k, line in enumerate(text):
            draw.text((margin, top + k * line_height), line, fill="#222222", font=font)
        frames.append(frame)
    return frames


def _font(size: int) -> Any:
    """DejaVu Sans, which matplotlib ships and which has ∂, Σ and arrows; Pillow's own font otherwise."""
    from PIL import ImageFont

    try:
        import matplotlib

        return ImageFont.truetype(str(Path(matplotlib.get_data_path(), "fonts/ttf/DejaVuSans.ttf")), size)
    except (ImportError, OSError):
        return ImageFont.load_default()


def _wrap(text: str, font: Any, width: float) -> list[str]:
    """Greedy word wrap of ``text`` to ``width`` pixels in ``font``."""
    lines: list[str] = []
    for word in text.split(" "):
        if lines and font.getlength(lines[-1] + " " + word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]

