"""Entry script of the frozen app (PyInstaller needs a file, not an entry point)."""

import sys

if sys.argv[1:2] == ["--self-check"]:
    # Packaging CI checks the installed bundle itself (key store, history); see desktop/selfcheck.py.
    from desktop.selfcheck import main as self_check

    sys.exit(self_check(sys.argv[2:]))

from desktop.app import main

sys.exit(main())
