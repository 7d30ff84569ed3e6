-- Record a delivery attempt; a later attempt of the same part replaces a failed one.
INSERT INTO store.deliveries (delivery_key, week, audience, channel, content_hash, transport,
                              location, status, error, delivered_at, run_id)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (delivery_key) DO UPDATE SET
    week = excluded.week, audience = excluded.audience, channel = excluded.channel,
    content_hash = excluded.content_hash, transport = excluded.transport,
    location = excluded.location, status = excluded.status, error = excluded.error,
    delivered_at = excluded.delivered_at, run_id = excluded.run_id;
