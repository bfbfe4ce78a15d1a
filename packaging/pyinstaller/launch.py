"""Entry script of the frozen app (PyInstaller needs a file, not an entry point)."""

import sys

from desktop.app import main

sys.exit(main())
