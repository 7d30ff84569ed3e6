"""Intercom REST API: endpoints, page sizes and code tables, as data.

https://developers.intercom.com/docs/references/rest-api/api.intercom.io/conversations/searchconversations
"""

from __future__ import annotations

API_VERSION = "2.11"                   # sent as the Intercom-Version header
SEARCH = "conversations/search"        # POST; cursor pages via pages.next.starting_after
MAX_PER_PAGE = 150                     # the search's largest page
CONVERSATION = "conversations/{id}"    # GET: the conversation with up to 500 parts
CONTACT = "contacts/{id}"              # GET: email and the contact's companies
COMPANY = "companies/{id}"             # GET: your company_id, name, website

# Who wrote a part: contacts (users and leads) are the customer; teammates and bots are agents.
CUSTOMER_AUTHORS = {"user", "lead", "contact"}
# Parts that carry a message; the others (assignment, open, close, snoozed, ...) are events.
MESSAGE_PARTS = {"comment", "note"}
INTERNAL_PARTS = {"note"}

# source.type of the conversation's first message -> channel.
CHANNELS = {"conversation": "chat", "email": "email", "phone_call": "phone", "phone_switch": "phone",
            "push": "push", "sms": "sms", "twitter": "twitter", "facebook": "facebook",
            "instagram": "instagram", "whatsapp": "whatsapp"}
PRIORITIES = {"priority": "high", "not_priority": "normal"}
