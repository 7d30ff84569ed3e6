"""csintel: support-ticket intelligence (tag, cluster, score risk, digest)."""

__version__ = "0.1.0"
