"""Support operations: Erlang C staffing and the weekly ticket-volume forecast."""
