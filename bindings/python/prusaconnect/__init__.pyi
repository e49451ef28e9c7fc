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
from .conditions import API as API
from .conditions import HTTP as HTTP
from .conditions import INTERNET as INTERNET
from .conditions import TOKEN as TOKEN
from .conditions import CondState as CondState
from .const import MMU_SLOT_COUNTS as MMU_SLOT_COUNTS
from .download import DownloadMgr as DownloadMgr
from .download import Transfer as Transfer
from .files import Filesystem as Filesystem
from .models import Sheet as Sheet
from .printer import Printer as Printer
from .printer import default_register_handler as default_register_handler
from .util import get_timestamp as get_timestamp

__version__: str
__library_version__: str

def set_log_level(level: int) -> None: ...
