"""Adapters: the only code that talks to AWS (boto3) or keeps state outside the domain."""
