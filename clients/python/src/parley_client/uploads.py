"""Uploading a file over Parley's HTTP API, with the standard library only.

Files go up as ``multipart/form-data`` to ``POST {api_url}/rooms/{room}/attachments`` (field
``file``), streamed from disk in pieces rather than read whole; the answer is the upload's
``AttachmentData``, whose ``id`` a ``send`` then names. An error answer becomes the same typed
``ParleyError`` a refused frame does: its ``code`` and ``detail`` (the limit and the number, for a
file too large).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any
from urllib.error import HTTPError, URLError
from urllib.parse import quote, urlsplit, urlunsplit
from urllib.request import Request, urlopen

from parley_client.errors import ParleyError, error_of
from parley_client.frames import AttachmentData

CHUNK = 64 * 1024

FileSource = str | os.PathLike[str] | IO[bytes]
"""What ``upload`` takes: a path, or a binary file object open for reading."""


def api_url_for(ws_url: str) -> str:
    """The HTTP API's address beside the socket's: ``ws://host/ws/`` gives ``http://host/api``
    (``wss`` gives ``https``; a socket at ``/chat/ws/`` gives ``/chat/api``)."""
    parts = urlsplit(ws_url)
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    path = parts.path.rstrip("/")
    base = path[: -len("/ws")] if path.endswith("/ws") else ""
    return urlunsplit((scheme, parts.netloc, f"{base}/api", "", ""))


def upload_file(
    api_url: str, room: str, source: FileSource, *, filename: str | None, headers: dict[str, str], timeout: float
) -> AttachmentData:
    """POST ``source`` to ``room``'s attachments and return what the server kept (blocking)."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        with path.open("rb") as file:
            return _post(api_url, room, file, filename or path.name, headers, timeout)
    name = filename or Path(str(getattr(source, "name", "") or "file")).name
    return _post(api_url, room, source, name, headers, timeout)


def _post(
    api_url: str, room: str, file: IO[bytes], filename: str, headers: dict[str, str], timeout: float
) -> AttachmentData:
    boundary = f"parley-{uuid.uuid4().hex}"
    quoted = filename.replace("\\", "\\\\").replace('"', '\\"').replace("\r", " ").replace("\n", " ")
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{quoted}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    size = _remaining(file)
    body: bytes | Iterator[bytes]
    if size is None:  # not seekable: its size is known only once read
        body = head + file.read() + tail
        length = len(body)
    else:
        body = _pieces(head, file, tail)
        length = len(head) + size + len(tail)
    request = Request(
        f"{api_url.rstrip('/')}/rooms/{quote(room, safe='')}/attachments",
        data=body,
        method="POST",
        headers={
            **headers,
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(length),
            "Accept": "application/json",
        },
    )
    try:
        with urlopen(request, timeout=timeout) as response:
            return AttachmentData.from_json(json.loads(response.read()))
    except HTTPError as answer:
        raise _refusal(answer) from None
    except URLError as error:
        raise ParleyError("unavailable", f"The upload could not reach {api_url}: {error.reason}.") from None


def _remaining(file: IO[bytes]) -> int | None:
    """Bytes left to read in ``file``, or None when it cannot say (a pipe, a socket)."""
    try:
        if not file.seekable():
            return None
        start = file.tell()
        end = file.seek(0, os.SEEK_END)
        file.seek(start)
    except (OSError, ValueError):
        return None
    return end - start


def _pieces(head: bytes, file: IO[bytes], tail: bytes) -> Iterator[bytes]:
    yield head
    while piece := file.read(CHUNK):
        yield piece
    yield tail


def _refusal(answer: HTTPError) -> ParleyError:
    """The typed error for an HTTP error answer: the API's ``{code, detail}``, or the status."""
    try:
        data: dict[str, Any] = json.loads(answer.read())
        return error_of(str(data["code"]), str(data["detail"]), retry_after=data.get("retry_after"))
    except (ValueError, KeyError, TypeError):
        return ParleyError("internal", f"The upload was answered HTTP {answer.code} {answer.reason}.")
