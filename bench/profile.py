"""Sum up a py-spy raw profile (``py-spy record --format raw``, as ``bench.run --profile`` writes):
where the server's samples went, by function (inclusive and self), and by the groups a reader of
the ingest path cares about.

    python -m bench.profile var/profiles/ingest-postgresql-redis.txt
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

# Groups of frames, by a piece of the frame's text (file path or function), in the order they are
# tried: a sample counts once in each group one of its frames falls in.
GROUPS = {
    "membership get_or_create": ("get_or_create",),
    "ORM query building (sql/compiler, query)": ("django/db/models/sql/", "django/db/models/query.py"),
    "database driver (psycopg, sqlite3)": ("psycopg/", "sqlite3/"),
    "channels_redis": ("channels_redis/",),
    "redis client": ("redis/asyncio", "redis/_parsers"),
    "thread hops (asgiref sync)": ("asgiref/sync.py",),
    "JSON and frames (pydantic, orjson, json)": ("pydantic", "json/", "parley/wire/"),
    "WebSocket protocol (uvicorn, websockets)": ("uvicorn/", "websockets/"),
    "event loop (asyncio, uvloop)": ("asyncio/", "uvloop"),
}


def read(path: Path) -> list[tuple[list[str], int]]:
    """The stacks of a raw profile (root first) with their sample counts."""
    stacks = []
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks.append((stack.split(";"), int(count)))
    return stacks


def summarise(stacks: list[tuple[list[str], int]], top: int) -> list[str]:
    """The summary's lines: samples per group, then the top functions inclusive and self."""
    total = sum(count for _, count in stacks)
    busy = sum(count for frames, count in stacks if not _idle(frames))
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    groups: Counter[str] = Counter()
    for frames, count in stacks:
        if _idle(frames):
            continue
        for frame in set(frames):
            inclusive[frame] += count
        own[frames[-1]] += count
        for group, needles in GROUPS.items():
            if any(needle in frame for frame in frames for needle in needles):
                groups[group] += count
    lines = [f"{total} samples, {busy} not idle ({100 * busy / max(1, total):.0f} %); shares of the busy ones:"]
    lines += [f"  {100 * n / max(1, busy):5.1f} %  {group}" for group, n in groups.most_common()]
    lines.append("top functions, inclusive:")
    lines += [f"  {100 * n / max(1, busy):5.1f} %  {frame}" for frame, n in inclusive.most_common(top)]
    lines.append("top functions, self:")
    lines += [f"  {100 * n / max(1, busy):5.1f} %  {frame}" for frame, n in own.most_common(top)]
    return lines


def _idle(frames: list[str]) -> bool:
    """A sample of a thread waiting: for work (a pool's queue) or in the event loop's select."""
    leaf = frames[-1]
    return any(word in leaf for word in ("select (", "_worker (", "wait (", "poll (", "run_forever")) and not any(
        "parley/" in frame for frame in frames[-3:]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    print("\n".join(summarise(read(args.profile), args.top)))


if __name__ == "__main__":
    main()
