"""What PyInstaller's bootloader does before the app's first line, for the Linux package's own interpreter.

The Linux package runs the PyInstaller bundle's modules on a copy of the build machine's statically linked Python
(Debian's /usr/bin/python3.11) instead of the bootloader: a bootloader can only load the shared libpython3.11.so,
and Debian builds that one without the optimisations of its static interpreter (profile-guided and link-time
optimisation, no calls through the PLT), so the same Python code ran 1.2-1.4x slower and the installed app painted
its first frame ~20% later than a source run. packaging/linux/build-deb.sh puts next to the bundle's modules:
- `azure-openai-chat-python`, the interpreter, with `azure-openai-chat-python._pth`: sys.path is the bundle's
  folders only, and the interpreter is isolated (no site, no user site, no PYTHON* variables);
- this module, the spec's run-time hooks and its entry script (launch.py) as .pyc files (`aoc_*.pyc`);
- the launcher `azure-openai-chat` (a shell script): the bundle's libraries first (LD_LIBRARY_PATH, as the
  bootloader sets it), then the interpreter on the entry script, which imports this module first.
"""

import os
import sys


def _as_the_bootloader() -> None:
    """sys.frozen, sys._MEIPASS and the environment, as PyInstaller's bootloader and its bootstrap set them."""
    base = os.path.dirname(os.path.abspath(sys.executable))
    sys.frozen = True  # type: ignore[attr-defined]
    sys._MEIPASS = base  # type: ignore[attr-defined]
    os.environ.pop("VIRTUAL_ENV", None)
    openssl_modules = os.path.join(base, "ossl-modules")  # OpenSSL's providers, when the bundle carries them
    if os.path.isdir(openssl_modules):
        os.environ["OPENSSL_MODULES"] = openssl_modules
    launcher = os.environ.pop("AOC_LAUNCHER", "")
    if launcher:  # the program the user started, as the bootloader reports it (Qt reads argv[0])
        sys.argv[0] = launcher


_as_the_bootloader()
del _as_the_bootloader
#: The spec's run-time hooks (packaging/pyinstaller/rthook_*.py), in its order; build-deb.sh compiles each in.
RUN_TIME_HOOKS = ("qt", "imports")
for _name in RUN_TIME_HOOKS:
    __import__(f"aoc_rthook_{_name}")
del _name
