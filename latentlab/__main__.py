"""`python -m latentlab` is the `latentlab` command."""

import sys

from .cli import main

sys.exit(main())
