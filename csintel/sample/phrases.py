"""Word lists and sentence pools for the sample tickets (data only).

Everything here is customer or agent text, or a value a template slot draws from. Sentences that
plant something the ground truth records (competitor mentions, false friends, churn language,
PII, Slack markup) are kept in their own pools so the generator knows exactly what it planted.
Pools outside those must never contain a competitor name or one of the ambiguous words (close,
front, copper, monday, notion); `tests/test_sample.py` checks the generated text for it.
"""

from __future__ import annotations

# --- people -------------------------------------------------------------------------------
FIRST_NAMES: tuple[str, ...] = (
    "Aisha", "Ben", "Carla", "Dana", "Elif", "Felix", "Grace", "Hiro", "Ines", "Jamal", "Kofi",
    "Lena", "Marco", "Nadia", "Oscar", "Priya", "Quentin", "Rosa", "Sven", "Tara", "Umar",
    "Vera", "Wes", "Ximena", "Yusuf", "Zoe", "Amir", "Bianca", "Chen", "Diego", "Emma", "Farah",
    "Gus", "Hana", "Ivan", "Julia", "Kenji", "Laura", "Mateo", "Nina", "Olu", "Paula", "Rahul",
    "Sofia", "Tomas", "Uma", "Victor", "Wren", "Yara", "Zack", "Anika", "Bruno", "Chloe", "Dev",
)
LAST_NAMES: tuple[str, ...] = (
    "Abbott", "Bauer", "Castillo", "Dubois", "Eriksen", "Fischer", "Gallagher", "Haddad", "Ito",
    "Jensen", "Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Petrov", "Quinn",
    "Rossi", "Schneider", "Tanaka", "Underwood", "Varga", "Whitfield", "Xu", "Yilmaz", "Zimmer",
    "Alvarez", "Brennan", "Chowdhury", "Delgado", "Evans", "Ferreira", "Grant", "Hughes",
    "Iqbal", "Jovanovic", "Kim", "Larsen", "Mensah", "Novak", "Ortega", "Patel", "Reyes",
)
AGENTS: tuple[str, ...] = ("Sarah", "Tom", "Mei", "Luis", "Jonas", "Amara", "Kate", "Ravi")
TITLES: tuple[str, ...] = (
    "Sales Ops Manager", "Account Executive", "VP Sales", "RevOps Lead", "Office Manager",
    "SDR Team Lead", "Head of Sales", "CRM Administrator", "Sales Director", "Founder & CEO",
    "Customer Success Manager", "IT Manager",
)

# --- slot values ---------------------------------------------------------------------------
BROWSERS = ("Chrome 131", "Chrome 130", "Firefox 132", "Safari 18", "Edge 131", "Brave")
OPERATING_SYSTEMS = ("Windows 11", "Windows 10", "macOS Sonoma", "macOS Sequoia", "Ubuntu 24.04")
OBJECTS = ("deals", "contacts", "companies", "activities", "leads", "notes")
REPORTS = ("Pipeline by stage", "Deals won by rep", "Forecast vs. quota", "Activity by owner",
           "Revenue by month", "Lost reasons", "Sales cycle length")
DASHBOARDS = ("Sales overview", "Team performance", "Q4 pipeline", "Leadership", "SDR activity")
PIPELINES = ("New Business", "Renewals", "Partner", "Enterprise", "Inbound", "Expansion")
FIELDS = ("Lead source", "Region", "Deal type", "Industry", "Product line", "Territory")
IDENTITY_PROVIDERS = ("Okta", "Azure AD", "OneLogin", "Google Workspace", "JumpCloud", "Ping Identity")
DEVICES = ("iPhone 15 Pro", "iPhone 13", "iPhone 14", "iPad Air", "Pixel 8", "Galaxy S23", "OnePlus 12")
IOS_VERSIONS = ("iOS 18.1", "iOS 18.0.1", "iOS 17.6")
ANDROID_VERSIONS = ("Android 14", "Android 15")
APP_VERSIONS = ("5.12.0", "5.12.1", "5.13.0", "5.13.2")
ENDPOINTS = ("/v2/contacts", "/v2/deals", "/v2/activities", "/v2/companies", "/v2/contacts/search")
PLANS = ("Starter", "Growth", "Enterprise")
FILE_NAMES = ("contacts_export.csv", "leads-q4.xlsx", "crm_migration.csv", "tradeshow_leads.csv",
              "customers_2026.csv", "companies_clean.xlsx")
VAT_IDS = ("DE293847561", "GB 123 4567 89", "FR12345678901", "NL123456789B01", "ES B12345678",
           "IE 6388047V", "SE556677889901", "IT 01234567890")
SINCE = ("yesterday", "this morning", "last week", "the weekend", "the last release")
WHEN = ("yesterday", "this morning", "last week", "over the weekend", "after the last release")
TIMES_WORDS = ("twice", "three times", "four times", "several times", "a dozen times")
ORDINALS = ("second", "third", "fourth", "fifth", "sixth", "seventh", "eighth")

# Error codes: the surface forms a customer writes for each canonical code.
ERROR_FORMS: dict[str, tuple[str, ...]] = {
    "HTTP 401": ("HTTP 401", "401 Unauthorized", "HTTP 401 Unauthorized"),
    "HTTP 429": ("HTTP 429", "429 Too Many Requests", "HTTP 429 Too Many Requests"),
    "HTTP 500": ("HTTP 500", "500 Internal Server Error", "HTTP 500 Internal Server Error"),
    "HTTP 502": ("HTTP 502", "502 Bad Gateway", "HTTP 502 Bad Gateway"),
    "HTTP 503": ("HTTP 503", "503 Service Unavailable", "HTTP 503 Service Unavailable"),
    "HTTP 504": ("HTTP 504", "504 Gateway Timeout", "HTTP 504 Gateway Timeout"),
}

# --- ordinary noise ------------------------------------------------------------------------
GREETINGS = ("Hi team,", "Hello,", "Hi there,", "Hello support,", "Hi {agent},", "Hello {agent},",
             "Hey,", "Good morning,", "Dear Tidewater support,", "Hi all,", "Hi Tidewater team,",
             "Dear {agent},")
CLOSINGS = ("Thanks,", "Thank you,", "Best,", "Best regards,", "Cheers,", "Regards,",
            "Kind regards,", "Thanks in advance,", "Many thanks,")
POSITIVE_LINES = (
    "Thanks so much, you folks are always quick.",
    "Love the product otherwise!",
    "The new inbox is great by the way.",
    "Really appreciate the help.",
    "Thanks in advance, you've been great so far.",
    "Our team really enjoys using Tidewater.",
    "Big fan of the latest update, just this one question.",
    "You've been super helpful in the past, so thank you!",
)
NEGATIVE_LINES = (
    "This is really frustrating.",
    "Honestly this is getting ridiculous.",
    "We're losing time every day because of this.",
    "Very disappointed, this worked fine before.",
    "Our reps are annoyed and so am I.",
    "This is hurting our sales team.",
    "Please treat this as urgent, it's blocking us.",
    "Not happy about this at all.",
    "This is the last thing we needed during quarter end.",
)
TRIED_LINES = (
    "We tried {browser} on {os}, same result.",
    "I cleared the cache and logged out and back in.",
    "It happens for {n_users} users, not just me.",
    "Nothing changed on our side as far as I know.",
    "I tried again in an incognito window, no luck.",
)
ASKS: dict[str, tuple[str, ...]] = {
    "product_bug": ("Can you look into this?", "Is this a known issue?", "Could you check what's going on?",
                    "Any update or workaround would help.", "Please let me know what you find."),
    "performance": ("Can you look into this?", "Is something wrong on your end?",
                    "Any idea when this will be faster?"),
    "integration_third_party": ("Can you check the connection on your side?", "Is this a known issue?",
                                "What should we do to get it working again?"),
    "data_quality": ("Can you help us clean this up?", "Is there a way to fix this in bulk?",
                     "Please let me know what you find."),
    "how_to": ("Thanks for any pointers.", "Could you point me to the right setting?",
               "Is there a help article for this?"),
    "configuration": ("What should we check on our side?", "Can you help us figure out what's wrong?",
                      "Any idea what we might have misconfigured?"),
    "billing": ("Please let me know once it's sorted.", "Can you confirm by email?",
                "Let me know if you need anything else from us."),
    "missing_capability": ("Thanks for considering it.", "Happy to jump on a call to explain our use case.",
                           "Let me know if you need more detail."),
}

# Sound like a feature request but are not one (a request detector must not count them).
REQUEST_LOOKALIKES = (
    "It would be great if someone could look at this today.",
    "Please add my colleague {teammate} to this ticket.",
    "Could you add {teammate} in cc on your replies?",
    "Any plans to fix this soon?",
    "Would be great to get an update by end of day.",
)

# --- planted: competitors ------------------------------------------------------------------
# Surface forms used for each canonical competitor; each is a name or alias in competitors.yaml.
COMPETITOR_FORMS: dict[str, tuple[str, ...]] = {
    "HubSpot": ("HubSpot", "Hubspot", "HubSpot CRM"),
    "Salesforce": ("Salesforce", "SFDC", "salesforce.com"),
    "Pipedrive": ("Pipedrive", "pipedrive.com"),
    "Close": ("Close CRM", "Close", "close.com", "Close.io"),
    "Copper": ("Copper CRM", "Copper", "copper.com"),
    "Front": ("Front", "Front app", "frontapp.com"),
    "monday.com": ("monday.com", "Monday CRM", "monday sales CRM"),
    "Attio": ("Attio", "attio.com"),
    "Zoho CRM": ("Zoho", "Zoho CRM"),
    "Freshsales": ("Freshsales", "Freshworks CRM"),
}
# How often each competitor comes up in competitive context (relative).
COMPETITOR_WEIGHTS: dict[str, float] = {
    "Pipedrive": 5, "HubSpot": 4, "Attio": 3, "Close": 3, "monday.com": 2.5, "Copper": 2,
    "Zoho CRM": 2, "Freshsales": 2, "Front": 1.5, "Salesforce": 1.5,
}
COMPETITIVE_CONTEXTS: dict[str, float] = {
    "switching": 0.25, "evaluating": 0.25, "comparison": 0.2, "pricing": 0.15, "past_user": 0.15,
}
COMPETITOR_LINES: dict[str, tuple[str, ...]] = {
    "switching": (
        "We're moving to {c} next quarter unless this gets sorted.",
        "Our VP already signed off on switching to {c}.",
        "Honestly we are planning to migrate to {c} when our contract ends.",
        "Part of the team has already started moving deals over to {c}.",
        "If this isn't fixed we will switch to {c}.",
    ),
    "evaluating": (
        "We are trialing {c} at the moment.",
        "Our sales ops lead is evaluating {c} as a replacement.",
        "We've booked a demo with {c} for next week.",
        "We're running a pilot of {c} with two reps.",
        "Management asked me to look at {c} as an option.",
    ),
    "comparison": (
        "In {c} you can do this in two clicks.",
        "{c} has this built in, for what it's worth.",
        "The {c} mobile app handles this fine.",
        "A friend's team uses {c} and they don't have this problem.",
        "{c} lets you bulk edit deals right from the pipeline view.",
    ),
    "pricing": (
        "{c} is half the price for the same number of seats.",
        "We got a quote from {c} that is 40% cheaper.",
        "Frankly {c} pricing looks a lot better for a team our size.",
        "For what we pay you, {c} would give us twice the seats.",
    ),
    "past_user": (
        "We used {c} before and imports were never this painful.",
        "Back when we were on {c} this just worked.",
        "I came from {c} where this was a two-click thing.",
        "Before Tidewater we were {c} customers for three years.",
    ),
}
# Integration-only mentions of a partner: not competitive.
PARTNER_ASIDES = (
    "We also have the {hubspot} integration switched on, in case that matters.",
    "Not sure if related, but our {salesforce} sync ran at the same time.",
    "Our {hubspot} forms feed into this pipeline.",
    "This pipeline is mirrored to {salesforce} every hour.",
)

# Ordinary words that look like competitor names (the word is what a matcher would see).
FALSE_FRIENDS: tuple[tuple[str, str], ...] = (
    ("close", "Please close this ticket once it's fixed."),
    ("close", "You can close the ticket after you reply."),
    ("close", "We have close to {n_users} users on the account, so this matters."),
    ("close", "We're close to the end of our quarter, so the timing is bad."),
    ("close", "I'll keep a close eye on it in the meantime."),
    ("front", "Our front desk team also uses the shared inbox."),
    ("front", "I'd rather know up front if this will take a while."),
    ("front", "I was in front of a client when it happened."),
    ("front", "The front page of the dashboard looks fine though."),
    ("monday", "It started on Monday morning."),
    ("monday", "We have a team training on Monday."),
    ("monday", "Can someone call me back on Monday?"),
    ("monday", "Our Monday pipeline review depends on this."),
    ("copper", "Construction outside cut a copper wire and our office internet went down, sorry for the slow reply."),
    ("copper", "We sell copper fittings, so our catalogue has thousands of products."),
    ("copper", "Our office had a copper line outage last week, so we couldn't test earlier."),
    ("notion", "I had no notion this setting even existed."),
    ("notion", "My first notion was that it was a browser issue."),
)

# --- planted: renewal risk -----------------------------------------------------------------
REPEAT_LINES = (
    "This is the {nth} time we are reporting this.",
    "We reported exactly this {weeks_ago} weeks ago and it is still broken.",
    "Same issue as our previous tickets, still not fixed.",
    "Again. Same problem as last time.",
    "Yet another ticket for the same bug.",
)
FRUSTRATION_LINES = (
    "Our team is completely fed up.",
    "This is unacceptable for what we pay.",
    "I'm honestly exhausted chasing this.",
    "Nobody has given us a real answer yet.",
    "Every week it's something new with this product.",
)
CHURN_LINES = (
    "If this isn't fixed we will not renew.",
    "We are looking at alternatives.",
    "Our renewal is coming up and leadership is questioning whether to stay.",
    "We will not renew at these terms.",
    "I've been asked to put together a list of replacement options.",
    "At this point we're seriously considering cancelling.",
)
HEALTHY_LINES = (
    "Thanks as always for the quick help!",
    "The team loves the new reports, by the way.",
    "Everything else is running smoothly on our side.",
    "We're really happy with how the rollout went.",
    "No rush on this one.",
)

# --- planted: PII and Slack markup ---------------------------------------------------------
PII_LINES: dict[str, tuple[str, ...]] = {
    "email": ("You can also reach me at {pii_email}.", "Please cc {pii_email} on your reply.",
              "My personal address is {pii_email} if the work one bounces."),
    "phone_us": ("Call me on {phone_us} if that's easier.", "My direct line is {phone_us}."),
    "phone_intl": ("I'm in our European office, best number is {phone_intl}.",
                   "You can call me at {phone_intl}."),
    "credit_card": ("Please charge the new card instead: {card}, exp {card_exp}.",
                    "The card that should be on file is {card}."),
    "ip_address": ("Our office IP is {ip} in case you need to allowlist it.",
                   "The requests come from {ip}."),
}
PII_KIND_WEIGHTS: dict[str, float] = {
    "email": 3, "phone_us": 2, "phone_intl": 1.5, "credit_card": 1, "ip_address": 1.5, "full_name": 2,
}
PERSONAL_MAIL_DOMAINS = ("gmail.com", "outlook.com", "yahoo.com", "proton.me", "icloud.com")
INTL_PHONES = ("+44 20 7946 0{n3}", "+49 30 9018 2{n3}", "+33 1 42 68 5{n3}", "+61 2 9374 4{n3}",
               "+31 20 794 6{n3}", "+46 8 123 45{n2}")
US_PHONES = ("({area}) 555-01{n2}", "{area}-555-01{n2}", "+1 {area} 555 01{n2}", "{area}.555.01{n2}")
US_AREA_CODES = ("415", "212", "312", "617", "206", "512", "303", "404")
IP_PREFIXES = ("203.0.113.", "198.51.100.", "192.0.2.", "10.12.4.")
SLACK_LINES = (
    "<!channel> FYI, posting this here for the whole team.",
    "<!here> is anyone else seeing this?",
    "Looping in <@{slack_user}> from our RevOps team.",
    "More details here: <https://evil.example.com|click here>",
    "The contact name shows up as &lt;b&gt;{teammate}&lt;/b&gt; in the list view.",
    "Our notes field now shows &lt;script&gt;alert(1)&lt;/script&gt; after the import.",
    "<!everyone> please read before the standup.",
)

# --- email furniture -----------------------------------------------------------------------
QUOTE_HEADERS = (
    "On {qdate} at {qtime} Support <support@tidewater.io> wrote:",
    "On {qdate}, {qtime}, Tidewater Support <support@tidewater.io> wrote:",
)
QUOTED_AGENT_LINES = (
    "Thanks for reaching out! Could you send us a screenshot of the error?",
    "We've passed this on to our engineering team and will keep you posted.",
    "Can you confirm which browser and version you are using?",
    "Could you tell us roughly when this started?",
    "Thanks for your patience while we investigate.",
)

# --- agent side ----------------------------------------------------------------------------
AGENT_REPLIES: dict[str, tuple[str, ...]] = {
    "product_bug": ("Thanks for the report, {first}. I was able to reproduce this and have passed it to our engineering team.",
                    "Sorry about the trouble, {first}! Our engineers are looking into it and I'll update you here."),
    "performance": ("Sorry for the slowness, {first}. We've identified the cause and are rolling out a fix.",
                    "Thanks {first}, our infrastructure team is on it and I'll keep you posted."),
    "integration_third_party": ("Hi {first}, this is caused by a change on the provider's side. We're working on a fix and will update you.",
                                "Thanks {first}. The connection needs to be re-authorised after the provider change; I've sent the steps below."),
    "data_quality": ("Hi {first}, I've checked the import log and cleaned up the affected records.",
                     "Thanks {first}, I've merged the duplicated records for you."),
    "how_to": ("Great question, {first}! You can do this under Settings. Here's the help article: https://help.tidewater.io/articles/{article}",
               "Hi {first}, here's a short guide that walks through it: https://help.tidewater.io/articles/{article}"),
    "configuration": ("Thanks {first}. This looks like a setting on your side; could you check the steps in https://help.tidewater.io/articles/{article}?",
                      "Hi {first}, the certificate or sender settings on your side need an update. Details below."),
    "billing": ("Hi {first}, I've taken care of this and you'll see the update within 5-7 business days.",
                "Thanks {first}, an updated invoice is on its way to your billing contact."),
    "missing_capability": ("Thanks for the suggestion, {first}! I've shared it with our product team and added your vote.",
                           "Hi {first}, this isn't available today, but I've logged it as a request with our product team."),
}
INTERNAL_NOTES = (
    "Escalated to engineering: ENG-{article}.",
    "Linked to known issue KI-{article}.",
    "Customer is on the {plan} plan, handle with care.",
    "Checked logs, nothing unusual on our side.",
    "Reproduced on staging.",
    "Refund processed in the billing system.",
)
FOLLOWUPS_OK = ("Thanks, that worked!", "Perfect, all sorted now.", "Great, thank you for the quick help.",
                "Got it, thanks.")
FOLLOWUPS_WAITING = ("Any update on this?", "Still happening this morning.", "Is there an ETA?",
                     "Still waiting on a fix here.")
AGENT_WRAPUPS = (
    "Glad we could help! I'm marking this as solved, just reply if anything comes up.",
    "The fix is live now. Let us know if you still see the problem.",
    "I'll mark this as solved for now; replying reopens it.",
)

# --- typos: (correct, misspelt), applied only to the theme sentences ------------------------
TYPOS: tuple[tuple[str, str], ...] = (
    ("receive", "recieve"), ("the", "teh"), ("definitely", "definately"), ("separate", "seperate"),
    ("calendar", "calender"), ("until", "untill"), ("which", "wich"), ("because", "becuase"),
    ("really", "realy"), ("their", "thier"), ("address", "adress"), ("again", "agian"),
    ("export", "exprot"), ("report", "reprot"), ("anymore", "any more"), ("doesn't", "doesnt"),
)
