"""The HTTP edge: claims -> Caller (auth), API schemas, presenters, the error mapping, one Powertools
router per function (routes/) and the resolver factory (app)."""
