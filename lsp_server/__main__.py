"""``python -m lsp_server [--tcp HOST:PORT]``: the server with default settings (initializationOptions set the rest)."""

import argparse
import os
import sys

from completion.config import Settings
from completion.offline import stay_offline

stay_offline()  # before lsp_server.server imports transformers

from lsp_server.server import run  # noqa: E402

parser = argparse.ArgumentParser(prog="python -m lsp_server", description=__doc__)
parser.add_argument("--tcp", metavar="HOST:PORT", help="listen on a loopback TCP port instead of stdio")
code = run(Settings(), tcp=parser.parse_args().tcp)
sys.stderr.flush()
os._exit(code)  # skip tearing down torch and transformers: a second or two the editor would wait for
