"""The 837P (005010X222A1) layer: the guide, the loop tracker, the claim builder, the claim views.

- :mod:`edi837.x837p.guide`: the implementation guide as lookup tables, compiled once per
  process from pyx12's ``837.5010.X222.A1`` map.
- :mod:`edi837.x837p.tracker`: :class:`~edi837.x837p.tracker.LoopTracker`, which places each
  segment in its loop as pyx12 does and reports what placing finds (SEG-*, STR-*), handing
  each HL to :mod:`edi837.x837p.hierarchy` (HL-*) and each placed segment to
  :mod:`edi837.x837p.elements` (ELM-*).
- :mod:`edi837.x837p.builder`: :class:`~edi837.x837p.builder.UnitReader`, which cuts a segment
  stream into claim units with their context.
- :mod:`edi837.x837p.model`: the typed views (``Claim``, ``ServiceLine``, ``DrugLine`` ...).

The submodules are imported where they are used, so that the rules can read the claim views
without loading the guide.
"""
