# Types of the module cffi builds from custodes/ledger/native_build.py.
from typing import Any

ffi: Any
lib: Any
