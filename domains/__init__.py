"""Domain packages: each one concept built on common/ and third-party libraries only."""
