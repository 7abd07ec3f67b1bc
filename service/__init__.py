"""genesys-strategy-archiver: a verifiable history of Genesys Cloud routing strategies and flows."""

__version__ = "0.1.0"
