"""Archives people download: a room's history for its owners, and everything Parley holds about a person.

Both are JSON documents written piece by piece (``archive.py``): rows are read in batches by key,
so an archive of a million messages holds one batch in memory at a time, never the room.
"""
