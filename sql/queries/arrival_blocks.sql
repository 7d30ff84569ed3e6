-- Share of ticket arrivals in each staffing block of the week (UTC), over the window before $end.
SELECT CASE
           WHEN isodow(created_at) >= 6 THEN 'Sat-Sun'
           WHEN hour(created_at) < 8 THEN 'Mon-Fri 00-08'
           WHEN hour(created_at) < 12 THEN 'Mon-Fri 08-12'
           WHEN hour(created_at) < 18 THEN 'Mon-Fri 12-18'
           ELSE 'Mon-Fri 18-24'
       END AS block,
       count(*) * 1.0 / sum(count(*)) OVER () AS share
FROM store.tickets
WHERE created_at >= $since AND created_at < $end
GROUP BY 1
ORDER BY 1;
