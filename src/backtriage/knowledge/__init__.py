"""The knowledge base: findings, conditions, recommendations, evidence figures, references, the
ACR table and the measurements' names and units, as data files validated at load."""

from backtriage.knowledge.loader import Knowledge, load_knowledge

__all__ = ["Knowledge", "load_knowledge"]
