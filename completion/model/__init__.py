"""The model: loading it from local files, its dtype and weight formats, and the one runner of every forward."""
