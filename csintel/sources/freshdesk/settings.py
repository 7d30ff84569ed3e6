"""Freshdesk API v2: endpoints, page sizes and code tables, as data.

https://developers.freshdesk.com/api/ (list tickets, conversations, satisfaction ratings).
"""

from __future__ import annotations

# (path, page size, most pages the API serves for one query). Freshdesk pages with `page=N`
# and stops at page 300 whatever the total, so long exports move their `updated_since` window.
TICKETS = ("api/v2/tickets", 100, 300)
CONVERSATIONS = ("api/v2/tickets/{id}/conversations", 100, 300)
SATISFACTION_RATINGS = ("api/v2/surveys/satisfaction_ratings", 100, 300)

# Side-loads on the ticket list: requester email, reply/resolution times and the plain-text
# description in the same call (each costs extra API credits, far fewer than a call per ticket).
TICKET_INCLUDE = "requester,stats,description"

# Ticket status codes: 4 Resolved and 5 Closed are the closed tickets (named as the other sources do).
CLOSED_STATUSES = {4: "solved", 5: "closed"}
PRIORITIES = {1: "low", 2: "normal", 3: "high", 4: "urgent"}   # Low, Medium, High, Urgent
CHANNELS = {1: "email", 2: "portal", 3: "phone", 4: "forum", 5: "twitter", 6: "facebook", 7: "chat",
            8: "mobihelp", 9: "feedback_widget", 10: "outbound_email", 11: "ecommerce"}

# Satisfaction answers: 103 Extremely happy ... 100 Neutral ... -103 Extremely unhappy (3-point
# surveys use 103 / 100 / -103). Spread linearly onto csat 1-5.
RATING_TO_CSAT = {103: 5, 102: 4, 101: 4, 100: 3, -101: 2, -102: 2, -103: 1}
