"""``python -m benchmarks [--quick] [--out results.csv] [--plot results.png] ...``.

The same as ``fugue-lab bench``: see :mod:`fugue_lab.bench.suite`.
"""

import sys

from fugue_lab.bench.suite import main

sys.exit(main())
