"""``python -m klviz.distill``: see :mod:`klviz.distill.cli`."""

import sys

from klviz.distill.cli import main

sys.exit(main())
