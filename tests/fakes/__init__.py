"""Local fakes of external services, so tests need no network and no credentials."""
