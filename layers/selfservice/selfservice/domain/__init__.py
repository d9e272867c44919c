"""The pure domain: no I/O, no clock, no boto3. Everything here is deterministic."""
