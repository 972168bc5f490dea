"""The shipped reference tables: small CSV files, each naming its source and date.

Loaded by :mod:`edi837.refdata.shipped`; this file makes the folder a package so that
installing declares it.
"""
