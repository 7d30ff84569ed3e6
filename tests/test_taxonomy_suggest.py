"""`csintel taxonomy suggest`'s draft file: names from theme labels, and a file the loader accepts."""

from csintel.classify.suggest import slug, write_draft
from csintel.classify.taxonomy import load_taxonomy
from csintel.config import SHIPPED_MODELS


def test_draft_is_a_taxonomy_the_user_can_edit_and_use(tmp_path):
    current = load_taxonomy(SHIPPED_MODELS / "taxonomy.yaml")
    draft = {"version": "", "category": {
        slug("Gigaset charger / telefon defekt"): {"description": "Tickets about phones, chargers.",
                                                   "examples": ["telefon defekt. gigaset charger"]},
        slug("VPN token expired"): {"description": "Tickets about vpn, token.", "examples": ["vpn token expired"]}},
        "root_cause": {s.name: {"description": s.description, "examples": list(s.examples)}
                       for s in current.tasks["root_cause"]}}
    path = tmp_path / "taxonomy.draft.yaml"
    write_draft(draft, {"tickets": 120, "uncertain_share": 0.41}, "it.csv", path)
    text = path.read_text()
    assert text.startswith("# Drafted by `csintel taxonomy suggest` from 120 tickets in it.csv")
    assert "41% of them got no category" in text and "[models] taxonomy" in text
    loaded = load_taxonomy(path)
    assert [s.name for s in loaded.tasks["category"]] == ["gigaset_charger_telefon_defekt", "vpn_token_expired"]
    assert loaded.version.startswith("drafted-") and loaded.tasks["root_cause"] == current.tasks["root_cause"]
