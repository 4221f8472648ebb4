"""Shared REST machinery: every app's `api/` builds on these conventions (docs/api.md).

- `viewsets`: ScopedReadOnlyViewSet / ScopedViewSet: the queryset always goes through a
  `crm.permissions` scope (other branches' rows are 404), role capabilities answer 403.
- `permissions`: capability predicates (`roles(...)`, `can_see_money`...) per action.
- `serializers`: scoped foreign keys (no pointing at rows you cannot see) and model
  `full_clean()` on save, so model rules answer 400 with field names.
- `errors`: the one error body, {"error": {"code", "message", "fields"}}, for every status.
- `idempotency`: the `Idempotency-Key` header on POST.
- `pagination`, `filters`, `throttling`, `schema`: lists, filters and their 400s, rates,
  and the OpenAPI documentation of all of the above.
"""
