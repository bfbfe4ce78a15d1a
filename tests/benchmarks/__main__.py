"""`python -m tests.benchmarks`: run the benchmark suite (see run.py for the options)."""

import sys

from tests.benchmarks.run import main

sys.exit(main())
