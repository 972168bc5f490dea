"""Reports: findings as text for people, JSON and CSV for programs, and the loop tree views.

Every writer takes :class:`~edi837.engine.FileResult` objects (or, for the tree, placed
segments) and a text stream; none of them reads files or knows the command line.
"""
