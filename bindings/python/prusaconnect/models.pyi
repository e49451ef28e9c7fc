from typing import Any, TypedDict

CODE_TIMEOUT: int

def filter_null(obj: Any) -> Any: ...

class Sheet(TypedDict):
    name: str
    z_offset: float
