-- The location of a delivered message part, if it was delivered.
SELECT location FROM store.deliveries
WHERE delivery_key = ? AND status = 'sent' AND location IS NOT NULL;
