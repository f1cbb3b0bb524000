"""What every app may use and that knows no app: the request middleware, sign-in throttling and
rate limits, the view mixins, prepared reads, mail, links, text rules and log filters. It imports
no app of the portal (the import-linter contract in pyproject.toml holds it to that)."""
