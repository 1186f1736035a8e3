"""Application contracts: event grammars on top of SSE, each a module with its checks, constants
and built-in profile file (``<name>.toml`` beside it), enabled by a profile's ``contract`` key.

The generic checks (:mod:`conformance.checks`) know nothing of any contract.
"""
