"""Pipedrive: a typed API client (`client`), pure mapping from our contacts to its payloads (`mapping`), the
company lookups it caches (`lookups`), the sync of one outbox row (`sync`) and the worker that drains the
outbox (`worker`). Only this package's own errors (`errors`) leave it."""
