"""Clicks: validated on the hot path, appended to a Redis stream, drained into the database.

- `validation`: the compact hand-written checker of one click of the API form (a DRF
  serializer costs more than everything else on the request path together), and the
  per-process cache of campaigns it checks against;
- `records`: the stored form of a click (stream payload and row values), with the
  visitor hash;
- `stream`: the append (and real-time counters) in one round trip, or the database
  directly without Redis;
- `database`: one multi-row `INSERT ... ON CONFLICT DO NOTHING` per batch;
- `flush`: the drain through a consumer group, acknowledging entries only after the
  commit, so a worker dying mid-batch loses nothing and a replay stores nothing twice;
- `tracking`: visits through a tracking link (`/t/`).
"""
