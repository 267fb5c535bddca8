"""One module per CLI command group."""
