"""Developer tooling: the local run without Docker (moto server, HTTP API emulation, JWT check)."""
