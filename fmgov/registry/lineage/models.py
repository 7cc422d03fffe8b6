"""The stored lineage's tables: roots per adaptation, reach pairs, and the pairs grouped by ancestor.

Derived data, rebuilt from the edges (``fmgov.registry.lineage.upkeep``).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

# How far apart the stored pairs may be. Larger: fewer probes per walk, more rows per adaptation
# (on the benchmark DAG: 4 -> 4.8 rows and 721 probes below a depth-10 node, 8 -> 11 rows and 289 probes).
REACH_HOPS = 8


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
    # the walk joins the parts of one level across rows before parsing them once.
    levels = models.TextField(_("adaptations below, by level"))

    class Meta:
        app_label = "registry"
        verbose_name = _("lineage below")
        verbose_name_plural = _("lineage below")

    def __str__(self) -> str:
        return f"below {self.adaptation_id}: {self.levels}"
