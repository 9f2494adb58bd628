"""Only what pyproject.toml cannot say: the cffi extension the ledger hashes with."""

from setuptools import setup

setup(cffi_modules=["custodes/ledger/native_build.py:ffi"])
