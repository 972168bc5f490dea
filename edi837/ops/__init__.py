"""The operations layer: batch runs, the folder watcher, the SQLite ledger and Spark.

Unattended users (a clearinghouse's nightly batch, a cron-driven folder watcher) go through
:func:`edi837.ops.process.process_file` for each file and record what happened in the
:class:`edi837.ops.ledger.Ledger`. This package sits above :mod:`edi837.api` and never
imports click.
"""
