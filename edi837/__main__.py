"""Entry point for ``python -m edi837``; the same command line as ``edi837``."""

from edi837.cli import run

if __name__ == "__main__":
    run()
