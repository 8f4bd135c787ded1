import sys

from kinema.cli import main

sys.exit(main())
