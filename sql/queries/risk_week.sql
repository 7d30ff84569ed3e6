-- Risk alerts of a week with account details and whether the account was already flagged last week.
SELECT r.account_id, a.name, coalesce(a.arr_usd, 0) AS arr_usd, r.renewal_date, r.days_to_renewal, r.score,
       r.band, r.reasons, a.csm_email, a.csm_slack_id, p.band AS last_week_band
FROM store.account_risk r
JOIN store.accounts a USING (account_id)
LEFT JOIN store.account_risk p
  ON p.account_id = r.account_id AND p.model_version = r.model_version
 AND p.week = CAST($week AS DATE) - INTERVAL 7 DAY
WHERE r.week = CAST($week AS DATE) AND r.model_version = $model_version
ORDER BY r.score DESC, arr_usd DESC, r.account_id;
