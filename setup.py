"""Only what pyproject.toml cannot say: the cffi extension the ledger hashes with."""

from setuptools import setup

setup(cffi_modules=["custodes/ledger/sha256_build.py:ffi"])
