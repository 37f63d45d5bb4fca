"""Small primitives every package may import: UTC time, Argon2 checks, HTTP Basic parsing.

The lowest layer of the tree: it imports nothing of ours (only the standard library and
``argon2``), so the domain packages (``charging`` included, which imports no other package of
ours) and ``app`` share one implementation of each instead of keeping their own copies.
"""
