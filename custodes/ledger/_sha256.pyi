# Types of the module cffi builds from custodes/ledger/sha256_build.py.
from typing import Any

ffi: Any
lib: Any
