-- Every competitor mention of the week with its account, for threats and comparisons.
SELECT m.competitor, m.context, m.competitive, m.sentence, t.source, t.ticket_id, t.account_id,
       a.name AS account_name, coalesce(a.arr_usd, 0) AS arr_usd
FROM store.competitor_mentions m
JOIN store.tickets t USING (source, ticket_id)
LEFT JOIN store.accounts a ON a.account_id = t.account_id
WHERE m.model_version = $model_version AND t.activity_at >= $start AND t.activity_at < $end
ORDER BY arr_usd DESC, t.ticket_id, m.mention_no;
