"""`python -m csintel.cli`: the same as the `csintel` command."""

import sys

from csintel.cli import main

sys.exit(main())
