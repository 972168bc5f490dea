"""Build script: a plain setuptools build, or with ``EDI837_COMPILE=1`` the optional compiled build.

The metadata lives in ``setup.cfg``. ``pip install .`` (and ``make test``) stays pure Python and
needs no compiler. With ``EDI837_COMPILE=1`` in the environment, the modules of the parse path
(tokenizer, segment, envelope checks, loop tracker, hierarchy and element checks, claim
builder) are compiled with mypyc (``make compiled``); everything else stays Python, and both
builds must give the same results.
"""

from __future__ import annotations

import os

from setuptools import setup

#: The parse path: every segment of a file passes through these modules.
COMPILED_MODULES = [
    "edi837/x12/reader.py",
    "edi837/x12/segment.py",
    "edi837/x12/envelope.py",
    "edi837/x837p/tracker.py",
    "edi837/x837p/hierarchy.py",
    "edi837/x837p/elements.py",
    "edi837/x837p/builder.py",
]

if os.environ.get("EDI837_COMPILE") == "1":
    from mypyc.build import mypycify

    setup(ext_modules=mypycify(COMPILED_MODULES, opt_level="3"))
else:
    setup()
