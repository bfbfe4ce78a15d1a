"""Entry script of the frozen app (PyInstaller needs a file, not an entry point)."""

import sys

if not getattr(sys, "frozen", False):
    # The Linux package's own interpreter runs this script without PyInstaller's bootloader: do what the
    # bootloader does first (packaging/linux/native_boot.py; __import__ keeps PyInstaller from looking for it).
    __import__("aoc_native_boot")

if sys.argv[1:2] == ["--self-check"]:
    # Packaging CI checks the installed bundle itself (key store, history); see desktop/selfcheck.py.
    from desktop.selfcheck import main as self_check

    sys.exit(self_check(sys.argv[2:]))

from desktop.app import main

sys.exit(main())
