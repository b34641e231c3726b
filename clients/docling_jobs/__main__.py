import sys

from docling_jobs.cli import main

sys.exit(main())
