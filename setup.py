"""Build script: a plain setuptools build, or with ``EDI837_COMPILE=1`` the optional compiled build.

The metadata lives in ``setup.cfg``. ``pip install .`` (and ``make test``) stays pure Python and
needs no compiler. With ``EDI837_COMPILE=1`` in the environment, the modules every segment and
every claim pass through are compiled with mypyc (``make compiled``): the parse path
(tokenizer, segment, envelope checks, loop tracker, hierarchy and element checks, claim
builder and claim model) and the check path (engine, line classes, pairing and the rule
modules). Everything else stays Python; both builds must give the same results
(``make test-compiled``).
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
    "edi837/x837p/model.py",
]

#: The check path: every claim passes through the engine and the rules that apply to it.
COMPILED_MODULES += [
    "edi837/engine.py",
    "edi837/refdata/reference.py",
    "edi837/rules/profiles.py",
    "edi837/rules/base.py",
    "edi837/rules/lines.py",
    "edi837/rules/pairing.py",
    "edi837/rules/structure.py",
    "edi837/rules/claim.py",
    "edi837/rules/codes.py",
    "edi837/rules/encounter.py",
    "edi837/rules/drug/common.py",
    "edi837/rules/drug/ctp.py",
    "edi837/rules/drug/ndc.py",
    "edi837/rules/drug/noc.py",
    "edi837/rules/drug/ref.py",
    "edi837/rules/drug/units.py",
    "edi837/rules/injection/common.py",
    "edi837/rules/injection/em.py",
    "edi837/rules/injection/inj.py",
    "edi837/rules/injection/jwz.py",
    "edi837/rules/injection/modifiers.py",
]

if os.environ.get("EDI837_COMPILE") == "1":
    from mypyc.build import mypycify

    setup(ext_modules=mypycify(COMPILED_MODULES, opt_level="3"))
else:
    setup()
