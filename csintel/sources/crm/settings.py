"""HubSpot CRM API v3: endpoints and page sizes, as data.

https://developers.hubspot.com/docs/api/crm/companies and /docs/api/crm/owners
"""

from __future__ import annotations

COMPANIES = "crm/v3/objects/companies"   # GET; cursor pages via paging.next.after
MAX_LIMIT = 100                          # most companies a page holds
OWNER = "crm/v3/owners/{id}"             # GET: the owner's email
# Always asked for: the name and the domain (the email-domain join of tickets to accounts).
BASE_PROPERTIES = ("name", "domain", "hs_object_id")
