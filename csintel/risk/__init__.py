"""Pre-renewal risk: signals from support history, a model that scores them, a backtest."""

from csintel.risk.model import DEFAULT_MODEL, DEFAULT_WEIGHTS, Reason, RiskModel, load_model
from csintel.risk.scoring import AccountRisk, score_accounts, update_account_risk

__all__ = ["DEFAULT_MODEL", "DEFAULT_WEIGHTS", "AccountRisk", "Reason", "RiskModel", "load_model",
           "score_accounts", "update_account_risk"]
