"""Nothing is downloaded at run time: the Hugging Face libraries are told so once, when a process starts.

Every load in completion/model/loading.py already passes ``local_files_only``; the environment variables also cover
what transformers or huggingface_hub might fetch on their own. They are read when those libraries are first
imported, so the entry points (the ``kvcomplete`` command) call ``stay_offline`` before importing
anything that imports them. Importing a module sets nothing: a test or an embedding program keeps its own
environment.
"""

from __future__ import annotations

import os

OFFLINE_VARIABLES = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")


def stay_offline() -> None:
    """Set HF_HUB_OFFLINE and TRANSFORMERS_OFFLINE to 1 in this process, unless they are set already."""
    for name in OFFLINE_VARIABLES:
        os.environ.setdefault(name, "1")
