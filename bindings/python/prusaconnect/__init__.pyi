from . import camera as camera
from . import command as command
from . import conditions as conditions
from . import const as const
from . import download as download
from . import files as files
from . import models as models
from . import util as util
from .command import Command as Command
from .command import CommandFailed as CommandFailed
from .printer import Printer as Printer

__version__: str
__library_version__: str

def set_log_level(level: int) -> None: ...
