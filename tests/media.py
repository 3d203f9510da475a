"""Files the attachment tests upload, made in the test: real images (Pillow), an SVG and a page with script."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

GPS_IFD = 0x8825
SVG_WITH_SCRIPT = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>localStorage.setItem('pwned', document.domain); document.title = 'pwned';</script>"
    b'<rect width="10" height="10" fill="red"/></svg>'
)
HTML_WITH_SCRIPT = b"<!DOCTYPE html><html><body><script>localStorage.setItem('pwned', '1')</script></body></html>"


def png_with_gps(width: int = 640, height: int = 480) -> bytes:
    """A PNG whose EXIF says where it was taken (latitude 48 degrees 51 minutes north) and carries a description."""
    image = Image.new("RGB", (width, height), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010E] = "secret-place-description"
    exif[GPS_IFD] = {1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 3.0)}
    out = io.BytesIO()
    image.save(out, "PNG", exif=exif)
    return out.getvalue()


def animated_gif(frames: int = 3, size: int = 400) -> bytes:
    """An animated GIF of ``frames`` frames in different colours."""
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)]
    images = [Image.new("RGB", (size, size), colours[index % len(colours)]) for index in range(frames)]
    out = io.BytesIO()
    images[0].save(out, "GIF", save_all=True, append_images=images[1:], duration=120, loop=0)
    return out.getvalue()


def upload(name: str, content: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    """A file as Django's upload handlers hand it to a view (the claimed type is ignored by Parley)."""
    return SimpleUploadedFile(name, content, content_type=content_type)
