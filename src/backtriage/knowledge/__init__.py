"""The knowledge base: findings, conditions, recommendations, evidence figures, references and the
ACR table, as data files validated at load."""

from backtriage.knowledge.loader import Knowledge, load_knowledge

__all__ = ["Knowledge", "load_knowledge"]
