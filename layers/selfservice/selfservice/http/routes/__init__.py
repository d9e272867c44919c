"""One Powertools Router per function. Each route: parse (the schema), one service call, present."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter


def new_router() -> APIGatewayHttpRouter:
    """A router for HTTP API (v2) events. (Powertools' constructor is unannotated; typed here once.)"""
    return APIGatewayHttpRouter()  # type: ignore[no-untyped-call]
