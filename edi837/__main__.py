"""Entry point for ``python -m edi837``; the same command line as ``edi837``."""

from edi837.cli import main

if __name__ == "__main__":
    main()
