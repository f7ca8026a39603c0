"""sales-iterable: a bilingual help agent for the Iterable platform.

Kept import-light on purpose: `sales-iterable --help` imports this package, so heavy
modules (chromadb, embedders, anthropic) are imported only where they are used.
"""

__version__ = "0.1.0"
