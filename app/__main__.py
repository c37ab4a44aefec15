import multiprocessing
import sys

from app.cli.main import main

if __name__ == "__main__":
    # A frozen app starts its worker processes by running its own executable again;
    # freeze_support() turns such a start into the worker instead of a second app.
    # It does nothing when not frozen.
    multiprocessing.freeze_support()
    sys.exit(main())
