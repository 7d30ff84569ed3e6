"""A head's Markdown card: what it is, what it was trained on, how it was chosen and how well it did."""

from __future__ import annotations

from typing import TYPE_CHECKING

from csintel.classify.sentiment import FEATURES as RULE_FEATURES

if TYPE_CHECKING:
    from csintel.classify.heads import Head


def head_card(head: Head, version: str) -> str:
    """A short Markdown card: what the head is, what it was trained on, how well it did."""
    card = head.card
    lines = [f"# {head.task} head `{version}`", "",
             (f"Logistic regression on sentence embeddings of `{head.embedding}` fine-tuned on the training "
              f"examples (encoder `{head.encoder.name}`, saved beside this card)" if head.encoder is not None
              else f"Logistic regression on frozen `{head.embedding}` sentence embeddings")
             + (f" plus the sentiment rules' evidence ({', '.join(RULE_FEATURES)}) scaled by {head.rule_scale}"
                if head.rule_scale else "")
             + (f" plus TF-IDF of word 1-2-grams and character 4-grams ({len(head.lexicon.words)} + "
                f"{len(head.lexicon.chars)} n-grams, weight {card.get('recipe', {}).get('lexical')})"
                if head.lexicon is not None else "")
             + (f", with the taxonomy's {card['prior_examples']} label descriptions and examples as a prior"
                if card.get("prior_examples") else "") + ".", "",
             f"- trained on: {card.get('trained_on') or 'unnamed data'} ({card.get('examples', '?')} examples, "
             f"created {card.get('created', '?')})",
             "- per label: " + ", ".join(f"{k} {v}" for k, v in (card.get("per_label") or {}).items()),
             f"- confidences: temperature {head.temperature} fitted on cross-validated logits; below "
             f"`[models] {head.task}_min_confidence` the label is `uncertain`"]
    cv = card.get("cross_validation")
    if cv:
        lines.append(f"- {cv['folds']}-fold cross-validation: accuracy {cv['accuracy']}, macro F1 {cv['macro_f1']}, "
                     f"ECE {cv['ece_uncalibrated']} before calibration, {cv['ece']} after")
    selection = card.get("selection")
    if selection:
        recipe = card.get("recipe", {})
        lines.append(f"- chosen on {selection['validation']} ({selection['score']}): C {recipe.get('c')}, lexical "
                     f"weight {recipe.get('lexical')} (0 = the embedding alone), class weights "
                     f"{'balanced' if recipe.get('balanced') else 'none'}; every candidate tried:")
        lines += [f"  - lexical {t['lexical']}, C {t['c']}, {'balanced' if t['balanced'] else 'unweighted'}"
                  f"{', label names as examples' if t.get('names') else ''}{_pseudo(t.get('unlabelled'))}: "
                  f"accuracy {t['accuracy']}, macro F1 {t['macro_f1']}" for t in selection.get("trials", [])]
    abstention = card.get("abstention")
    if abstention:
        rule = abstention.get("rule", "confidence")
        gate = (f"below energy {abstention['threshold']} (T * logsumexp(logits / T)), or below the config's "
                f"`{head.task}_min_confidence`," if rule == "energy" else
                f"below confidence {abstention['threshold']} (or the config's `{head.task}_min_confidence` if higher)")
        tried = "; ".join(f"{r}: threshold {c['threshold']}, in-scope accuracy {c['inscope_accuracy']}, out-of-scope "
                          f"recall {c['oos_recall']}" for r, c in (abstention.get("candidates") or {}).items())
        lines.append(f"- abstention ({rule}): {gate} the label is `uncertain`; chosen on the same validation rows to "
                     f"catch out-of-scope tickets, stood in for by {abstention['oos_source']}, at most "
                     f"{abstention['max_inscope_loss']} in-scope accuracy lost: in-scope accuracy "
                     f"{abstention['inscope_accuracy_top1']} -> {abstention['inscope_accuracy']}, out-of-scope recall "
                     f"{abstention['oos_recall']}" + (f" (rules tried: {tried})" if tried else ""))
    semi = card.get("unlabelled")
    if semi:
        lines.append(f"- unlabelled tickets: {semi['offered']} offered, " + (
            "used with pseudo-labels (the head's probabilities smoothed over their kNN graph; "
            "csintel.classify.semi_supervised), which won on validation" if semi["used"]
            else "not used: pseudo-labelling them did not win on validation"))
    few_shot = card.get("few_shot")
    if few_shot:
        lines.append(f"- few-shot: {few_shot['decision']}")
    held = card.get("held_out")
    if held:
        lines.append(f"- held-out test ({held['file']}, {held['n']} tickets, never trained on): accuracy "
                     f"{held['accuracy']}, macro recall {held['macro_recall']}, macro F1 {held['macro_f1']}"
                     + (f"; {held['baseline']['name']} on the same tickets: accuracy {held['baseline']['accuracy']}, "
                        f"macro recall {held['baseline']['macro_recall']}, macro F1 {held['baseline']['macro_f1']}"
                        if held.get("baseline") else ""))
    lines += ["", "Retrain with `csintel train --task " + head.task + " --labeled FILE`; "
              "score with `csintel eval --task " + head.task + " --test FILE`.", ""]
    return "\n".join(lines)


def _pseudo(unlabelled: int | None) -> str:
    return f", plus {unlabelled} unlabelled tickets pseudo-labelled" if unlabelled else ""
