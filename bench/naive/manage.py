#!/usr/bin/env python
"""The naive baseline's own manage.py: `python bench/naive/manage.py migrate`."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "naive.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
