"""``python -m fugue_lab.bench``: the same as ``fugue-lab bench``."""

import sys

from fugue_lab.bench.suite import main

sys.exit(main())
