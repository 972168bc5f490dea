"""edi837: read X12 837P claim files, check CPT 96372 injection lines against their drug lines.

The package is a library first; :mod:`edi837.cli` is a thin click layer over it.
"""

__version__ = "0.1.0"
