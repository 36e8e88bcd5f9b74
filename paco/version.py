"""PaCo's version, as exports' manifests and reports name it."""
VERSION = "0.14.0"
