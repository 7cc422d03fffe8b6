"""The stored lineage's tables: roots per adaptation, reach pairs, and the pairs grouped by ancestor.

Derived data, rebuilt from the edges (``fmgov.registry.lineage.upkeep``).
"""

import json
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

# How far apart the stored pairs may be. Larger: fewer probes per walk, more rows per adaptation
# (on the benchmark DAG: 4 -> 4.8 rows and 721 probes below a depth-10 node, 8 -> 11 rows and 289 probes).
REACH_HOPS = 8


class IdListField(models.Field):
    """A list of adaptation ids: ``bigint[]`` on PostgreSQL, where the walk's function reads it; JSON text elsewhere."""

    description = _("list of ids")

    def db_type(self, connection) -> str:
        return "bigint[]" if connection.vendor == "postgresql" else "text"

    def get_db_prep_value(self, value: Any, connection, prepared: bool = False) -> Any:
        ids = [int(v) for v in value or ()]
        return ids if connection.vendor == "postgresql" else json.dumps(ids)

    def from_db_value(self, value: Any, expression, connection) -> list[int] | None:
        if value is None:
            return None
        return [int(v) for v in (value if isinstance(value, list) else json.loads(value))]

    def to_python(self, value: Any) -> list[int] | None:
        if value is None or isinstance(value, list):
            return value
        return [int(v) for v in json.loads(value)]


class LineageRoot(models.Model):
    """One adaptation and one foundation model it rests on: derived data, rebuilt from the edges."""

    adaptation = models.ForeignKey(
        "registry.Adaptation", on_delete=models.CASCADE, related_name="lineage_roots", verbose_name=_("adaptation")
    )
    foundation_model = models.ForeignKey(
        "registry.FoundationModel",
        on_delete=models.CASCADE,
        related_name="lineage_roots",
        verbose_name=_("foundation model"),
    )
    depth = models.PositiveIntegerField(_("depth"))
    weight = models.FloatField(_("weight"))

    class Meta:
        app_label = "registry"
        verbose_name = _("lineage root")
        constraints = [models.UniqueConstraint(fields=["adaptation", "foundation_model"], name="lineage_root_unique")]
        # Descendants of a model, nearest first, read from the index alone.
        indexes = [models.Index(fields=["foundation_model", "depth", "adaptation"], name="lineage_root_model_depth")]

    def __str__(self) -> str:
        return f"{self.adaptation_id} rests on {self.foundation_model_id} ({self.weight:.3f}, depth {self.depth})"


class LineageReach(models.Model):
    """An adaptation ``ancestor`` at most ``REACH_HOPS`` above ``descendant``: derived data, rebuilt from the edges."""

    pk = models.CompositePrimaryKey("descendant", "ancestor")
    descendant = models.ForeignKey(
        "registry.Adaptation",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # the primary key leads with it
        verbose_name=_("descendant"),
    )
    ancestor = models.ForeignKey(
        "registry.Adaptation",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # the walk's index leads with it
        verbose_name=_("ancestor"),
    )
    distance = models.PositiveSmallIntegerField(_("distance"))

    class Meta:
        app_label = "registry"
        verbose_name = _("lineage reach")
        verbose_name_plural = _("lineage reach")
        # Below an adaptation, the nodes exactly REACH_HOPS down (the next jump) and all within, index-only.
        indexes = [models.Index(fields=["ancestor", "distance", "descendant"], name="lineage_reach_down")]

    def __str__(self) -> str:
        return f"{self.descendant_id} is {self.distance} below {self.ancestor_id}"


class LineageBelow(models.Model):
    """The ``LineageReach`` pairs of one ancestor, grouped by distance: derived data, rebuilt from the pairs."""

    adaptation = models.OneToOneField(
        "registry.Adaptation",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="+",
        verbose_name=_("adaptation"),
    )
    # Plain text, not JSON: PostgreSQL sends it as stored (jsonb cost a conversion per row on the server), and
    # the walk parses the rows' text joined, once.
    levels = models.TextField(_("adaptations below, by level"))
    # The ids of the last level again (exactly REACH_HOPS below), as an array the server can read: the walk's
    # function follows them to the next grouped rows without the pair table, one index scan for a whole base
    # (with the one-row-per-base form, 40-50% less CPU for the query below the benchmark's depth-10 node).
    frontier = IdListField(_("adaptations exactly REACH_HOPS below"), default=list)

    class Meta:
        app_label = "registry"
        verbose_name = _("lineage below")
        verbose_name_plural = _("lineage below")

    def __str__(self) -> str:
        return f"below {self.adaptation_id}: {self.levels}"
