"""Database layer. Importing it installs the data-version hooks (db/data_version.py)."""

from db import data_version  # noqa: F401
