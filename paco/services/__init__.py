"""Domain operations with plain arguments, shared by the API, the admin site and the CLI."""
