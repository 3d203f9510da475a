"""What an uploaded file is, read from its bytes, and the images Parley serves in its place.

A file's type is read from its first bytes, never from its name or the type the browser claimed:
a page saved as ``cat.png`` is still HTML. Images (PNG, JPEG, GIF, WebP) are decoded and written
anew with Pillow, which drops their EXIF (a phone's photo carries where it was taken) and any
other metadata; animated ones keep every frame. Their thumbnail is made here too, once.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass
from typing import IO

from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from parley.wire.errors import ParleyError

SNIFF_BYTES = 8192
THUMBNAIL_SIZE = 320
# Decoding is bounded by pixels, not bytes: a small PNG can claim to be 100,000 by 100,000.
MAX_IMAGE_PIXELS = 40_000_000
IMAGE_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
SAFE_INLINE_TYPES = frozenset(IMAGE_TYPES.values())
"""Types served inline (shown in the page); everything else is served as a download."""

_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"WEBP", 8, "image/webp"),
    (b"%PDF-", 0, "application/pdf"),
    (b"PK\x03\x04", 0, "application/zip"),
)
_HTML = re.compile(rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body|script|iframe)\b", re.IGNORECASE | re.DOTALL)
_SVG = re.compile(rb"<svg[\s>]", re.IGNORECASE)


def sniff_content_type(head: bytes) -> str:
    """The media type of a file that starts with ``head`` (its first ``SNIFF_BYTES``), by content.

    Markup is looked for before plain text, so that an HTML page or an SVG is never taken for
    ``text/plain``; bytes that are not UTF-8 text are ``application/octet-stream``.
    """
    for signature, offset, media_type in _SIGNATURES:
        if head[offset : offset + len(signature)] == signature and (offset == 0 or head.startswith(b"RIFF")):
            return media_type
    text = head.removeprefix(b"\xef\xbb\xbf")
    if _HTML.match(text):
        return "text/html"
    if _SVG.search(text) and text.lstrip().startswith(b"<"):
        return "image/svg+xml"
    if b"\x00" in text:
        return "application/octet-stream"
    try:
        # A multi-byte character may be cut at the end of the sniffed bytes.
        text.decode("utf-8") if len(text) < SNIFF_BYTES else text[:-4].decode("utf-8")
    except UnicodeDecodeError:
        return "application/octet-stream"
    if re.search(rb"<(script|html|iframe|object|embed)\b", text, re.IGNORECASE):
        return "text/html"  # markup in the middle of text runs as HTML in a browser that sniffs
    return "text/plain"


@dataclass(frozen=True)
class ProcessedImage:
    """An image as Parley serves it (metadata gone), its thumbnail, and what the page needs to lay it out."""

    content: bytes
    content_type: str
    thumbnail: bytes
    thumbnail_extension: str
    width: int
    height: int
    animated: bool


def image_process(source: IO[bytes]) -> ProcessedImage:
    """Decode an image and write it anew without metadata, with a thumbnail; animated ones stay animated.

    Raises ``ParleyError`` (invalid) for an image that does not decode or has too many pixels.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(source)
            if image.width * image.height > MAX_IMAGE_PIXELS:
                raise ParleyError(
                    "too_large",
                    f"The image is {image.width} by {image.height} pixels; the limit is {MAX_IMAGE_PIXELS:,} pixels.",
                )
            image.load()
            return _rewritten(image)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombWarning) as error:
        raise ParleyError("invalid", f"The image could not be read ({error}); upload a valid image.") from None


def _rewritten(image: Image.Image) -> ProcessedImage:
    image_format = str(image.format)
    animated = getattr(image, "n_frames", 1) > 1
    out, thumb = io.BytesIO(), io.BytesIO()
    if animated:
        frames = [frame.copy() for frame in ImageSequence.Iterator(image)]
        options = _animation_options(image, frames)
        # Saved without ``exif=``: Pillow writes no EXIF, comments or text chunks unless given them.
        frames[0].save(out, image_format, save_all=True, append_images=frames[1:], **options)
        small = [_thumbnail_frame(frame) for frame in frames]
        small[0].save(thumb, image_format, save_all=True, append_images=small[1:], **options)
        width, height = image.size
        extension = image_format.lower()
    else:
        # The pixels turned as the camera meant them, before the orientation tag goes with the EXIF.
        upright = ImageOps.exif_transpose(image)
        width, height = upright.size
        upright.save(out, image_format, **_still_options(image_format, image))
        still = _thumbnail_frame(upright)
        if image_format == "JPEG":
            still.convert("RGB").save(thumb, "JPEG", quality=85)
            extension = "jpg"
        else:
            still.save(thumb, "PNG")
            extension = "png"
    return ProcessedImage(
        content=out.getvalue(),
        content_type=IMAGE_TYPES[image_format],
        thumbnail=thumb.getvalue(),
        thumbnail_extension=extension,
        width=width,
        height=height,
        animated=animated,
    )


def _thumbnail_frame(frame: Image.Image) -> Image.Image:
    small = frame.copy()
    small.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
    return small


def _still_options(image_format: str, image: Image.Image) -> dict[str, object]:
    options: dict[str, object] = {}
    if image_format == "JPEG":
        options["quality"] = 90
    icc = image.info.get("icc_profile")
    if icc:
        options["icc_profile"] = icc  # colours, not metadata about the person
    return options


def _animation_options(image: Image.Image, frames: list[Image.Image]) -> dict[str, object]:
    durations = [int(frame.info.get("duration", image.info.get("duration", 100)) or 100) for frame in frames]
    return {"duration": durations, "loop": int(image.info.get("loop", 0)), "disposal": 2}


def is_image_type(content_type: str) -> bool:
    """Whether Parley decodes files of this type as images (and serves them inline)."""
    return content_type in SAFE_INLINE_TYPES
